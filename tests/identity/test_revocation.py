"""Taking rights away from a user ends the tokens they hold at once, in every service."""

from __future__ import annotations

import httpx

from tests.identity.conftest import IdentityHarness, Tokens
from tests.support.waiting import next_second

PROFILE = "/api/v1/profile/"


async def _second_boundary() -> None:
    # Revocation markers have whole seconds, like `iat`: start the test on a fresh second.
    await next_second()


async def test_deactivation_ends_the_users_access_tokens_now(
    identity: IdentityHarness, client: httpx.AsyncClient, admin_tokens: Tokens
) -> None:
    victim = await identity.add_user("leaver")
    tokens = await identity.tokens(victim)
    assert (await client.get(PROFILE, headers=tokens.headers)).status_code == 200
    await _second_boundary()

    response = await client.put(
        f"/api/v1/users/{victim.id}/", json={"is_active": False}, headers=admin_tokens.headers
    )
    assert response.status_code == 200

    revoked = await client.get(PROFILE, headers=tokens.headers)
    assert revoked.status_code == 401
    assert revoked.json() == {"detail": "Token revoked"}
    assert (await client.get(PROFILE, headers=admin_tokens.headers)).status_code == 200


async def test_a_demotion_ends_tokens_and_a_promotion_does_not(
    identity: IdentityHarness, client: httpx.AsyncClient, admin_tokens: Tokens
) -> None:
    promoted = await identity.add_user("rising")
    demoted = await identity.add_user("falling", role="instructor")
    promoted_tokens = await identity.tokens(promoted)
    demoted_tokens = await identity.tokens(demoted)
    await _second_boundary()

    for account, role in ((promoted, "instructor"), (demoted, "user")):
        response = await client.put(
            f"/api/v1/users/{account.id}/", json={"role": role}, headers=admin_tokens.headers
        )
        assert response.status_code == 200

    assert (await client.get(PROFILE, headers=promoted_tokens.headers)).status_code == 200
    assert (await client.get(PROFILE, headers=demoted_tokens.headers)).status_code == 401
    refreshed = await client.post(
        "/api/v1/token/refresh/", json={"refresh_token": demoted_tokens.refresh_token}
    )
    assert refreshed.status_code == 401


async def test_deletion_ends_the_users_access_tokens(
    identity: IdentityHarness, client: httpx.AsyncClient, admin_tokens: Tokens
) -> None:
    victim = await identity.add_user("gone")
    tokens = await identity.tokens(victim)
    await _second_boundary()

    assert (
        await client.delete(f"/api/v1/users/{victim.id}/", headers=admin_tokens.headers)
    ).status_code == 204
    assert (await client.get(PROFILE, headers=tokens.headers)).status_code == 401


async def test_a_new_login_after_a_password_reset_works(
    identity: IdentityHarness, client: httpx.AsyncClient, admin_tokens: Tokens
) -> None:
    account = await identity.add_user("forgetful")
    old = await identity.tokens(account)
    await _second_boundary()

    response = await client.put(
        f"/users/{account.id}",
        json={"password": "a brand new secret"},
        headers=admin_tokens.headers,
    )
    assert response.status_code == 200
    assert (await client.get(PROFILE, headers=old.headers)).status_code == 401
    await _second_boundary()
    fresh = await identity.login("forgetful", "a brand new secret")
    assert (await client.get(PROFILE, headers=fresh.headers)).status_code == 200


async def test_the_last_admin_cannot_be_removed(
    identity: IdentityHarness, client: httpx.AsyncClient, admin_tokens: Tokens
) -> None:
    admin_id = identity.admin.id
    url = f"/api/v1/users/{admin_id}/"
    for change in ({"role": "user"}, {"is_active": False}):
        refused = await client.put(url, json=change, headers=admin_tokens.headers)
        assert refused.status_code == 409
        assert "last active admin" in refused.json()["detail"]
    refused = await client.delete(url, headers=admin_tokens.headers)
    assert refused.status_code == 409
    stored = await identity.stored_user(admin_id)
    assert stored is not None
    assert (stored.role, stored.is_active) == ("admin", True)

    await identity.add_user("second-boss", role="admin")
    demoted = await client.put(url, json={"role": "user"}, headers=admin_tokens.headers)
    assert demoted.status_code == 200
