"""Refresh-token rotation, reuse detection and logging out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import jwt
from sqlalchemy import update

from bandstand.identity.models import RefreshToken, User
from bandstand.identity.tokens import hash_refresh_token
from tests.identity.conftest import IdentityHarness, Tokens, bearer

REFRESH = "/api/v1/token/refresh/"
LOGOUT = "/api/v1/logout/"
PROFILE = "/api/v1/profile"


async def _refresh(client: httpx.AsyncClient, tokens: Tokens) -> httpx.Response:
    return await client.post(REFRESH, json={"refresh_token": tokens.refresh_token})


async def _rotate(client: httpx.AsyncClient, tokens: Tokens) -> Tokens:
    response = await _refresh(client, tokens)
    assert response.status_code == 200, response.text
    body = response.json()
    return Tokens(body["access_token"], body["refresh_token"])


async def test_refresh_rotates_the_refresh_token(
    identity: IdentityHarness, client: httpx.AsyncClient, member_tokens: Tokens
) -> None:
    response = await _refresh(client, member_tokens)

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert (body["token_type"], body["expires_in"]) == ("bearer", 900)
    assert body["refresh_token"] != member_tokens.refresh_token
    old_claims = jwt.decode(member_tokens.access_token, options={"verify_signature": False})
    new_claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert new_claims["sid"] == old_claims["sid"]  # the same login session
    assert new_claims["jti"] != old_claims["jti"]
    profile = await client.get(PROFILE, headers=bearer(body["access_token"]))
    assert profile.status_code == 200

    # Only hashes are stored, and the spent token is marked used.
    stored = await identity.refresh_tokens(identity.member.id)
    hashes = {token.token_hash for token in stored}
    assert hash_refresh_token(member_tokens.refresh_token) in hashes
    assert hash_refresh_token(body["refresh_token"]) in hashes
    assert not {member_tokens.refresh_token, body["refresh_token"]} & hashes
    assert [token.used_at is not None for token in stored] == [True, False]

    # The new one rotates again.
    await _rotate(client, Tokens(body["access_token"], body["refresh_token"]))


async def test_reusing_a_rotated_token_revokes_its_whole_family(
    identity: IdentityHarness, client: httpx.AsyncClient, member_tokens: Tokens
) -> None:
    other_session = await identity.tokens(identity.member)
    second = await _rotate(client, member_tokens)
    third = await _rotate(client, second)

    replay = await _refresh(client, member_tokens)
    assert replay.status_code == 401
    assert replay.headers["www-authenticate"] == "Bearer"
    assert "reuse" in replay.json()["detail"]
    # The newest token of the family is dead too, and stays dead.
    for tokens in (third, second, member_tokens):
        response = await _refresh(client, tokens)
        assert response.status_code == 401
    stored = await identity.refresh_tokens(identity.member.id)
    family = [t for t in stored if t.token_hash != hash_refresh_token(other_session.refresh_token)]
    assert all(token.revoked_at is not None for token in family)
    # Another login session of the same user is not affected.
    await _rotate(client, other_session)


async def test_unknown_and_expired_refresh_tokens_are_refused(
    identity: IdentityHarness, client: httpx.AsyncClient, member_tokens: Tokens
) -> None:
    unknown = await client.post(REFRESH, json={"refresh_token": "not-a-token-we-issued"})
    assert unknown.status_code == 401
    assert unknown.json() == {"detail": "Invalid refresh token"}

    async with identity.database.session() as session, session.begin():
        await session.execute(
            update(RefreshToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    expired = await _refresh(client, member_tokens)
    assert expired.status_code == 401
    assert expired.json() == {"detail": "Invalid refresh token"}


async def test_a_deactivated_user_cannot_refresh(
    identity: IdentityHarness, client: httpx.AsyncClient, member_tokens: Tokens
) -> None:
    # Even when the account is switched off behind the API's back, refreshing checks it.
    async with identity.database.session() as session, session.begin():
        await session.execute(update(User).values(is_active=False))
    response = await _refresh(client, member_tokens)
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid refresh token"}


async def test_logout_ends_the_session_and_denylists_the_access_token(
    identity: IdentityHarness, client: httpx.AsyncClient, member_tokens: Tokens
) -> None:
    other_session = await identity.tokens(identity.member)

    response = await client.post(LOGOUT, headers=member_tokens.headers)

    assert response.status_code == 200, response.text
    assert response.json() == {"message": "Logout successful"}
    after = await client.get(PROFILE, headers=member_tokens.headers)
    assert after.status_code == 401
    assert after.json()["detail"] == "Token revoked"
    assert after.headers["www-authenticate"] == "Bearer"
    assert (await _refresh(client, member_tokens)).status_code == 401
    again = await client.post(LOGOUT, headers=member_tokens.headers)
    assert again.status_code == 401
    assert again.json()["error"] == again.json()["detail"]
    # Logging out one session leaves the others alone.
    assert (await client.get(PROFILE, headers=other_session.headers)).status_code == 200
    await _rotate(client, other_session)


async def test_logout_also_revokes_the_refresh_token_it_is_given(
    identity: IdentityHarness, client: httpx.AsyncClient, member_tokens: Tokens
) -> None:
    other_session = await identity.tokens(identity.member)
    response = await client.post(
        LOGOUT, json={"refresh_token": other_session.refresh_token}, headers=member_tokens.headers
    )
    assert response.status_code == 200
    assert (await _refresh(client, other_session)).status_code == 401

    # A refresh token of another account is not the caller's to revoke.
    someone_else = await identity.tokens(identity.admin)
    fresh = await identity.tokens(identity.member)
    response = await client.post(
        LOGOUT, json={"refresh_token": someone_else.refresh_token}, headers=fresh.headers
    )
    assert response.status_code == 200
    await _rotate(client, someone_else)


async def test_logout_without_a_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post(LOGOUT)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"detail": "Not authenticated", "error": "Not authenticated"}
