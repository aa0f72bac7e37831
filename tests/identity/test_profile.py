"""The caller's own account: reading and updating the profile, changing the password."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from tests.identity.conftest import USER_PASSWORD, IdentityHarness, Tokens

PROFILE = "/api/v1/profile/"
PASSWORD = "/api/v1/profile/password/"


async def test_get_profile(
    identity: IdentityHarness, client: httpx.AsyncClient, member_tokens: Tokens
) -> None:
    response = await client.get(PROFILE, headers=member_tokens.headers)

    assert response.status_code == 200
    user = response.json()["user"]
    assert set(response.json()) == {"user"}
    assert user["id"] == identity.member.id
    assert (user["username"], user["email"], user["role"]) == (
        "member",
        "member@example.com",
        "user",
    )
    assert datetime.fromisoformat(user["updated_at"]).utcoffset() is not None


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
async def test_update_profile_is_partial(
    identity: IdentityHarness, client: httpx.AsyncClient, member_tokens: Tokens, method: str
) -> None:
    before = await client.get(PROFILE, headers=member_tokens.headers)

    response = await client.request(
        method,
        PROFILE,
        json={"first_name": "Mem", "email": "new@example.com"},
        headers=member_tokens.headers,
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"] == "Profile updated successfully"
    user = body["user"]
    assert (user["first_name"], user["email"]) == ("Mem", "new@example.com")
    assert user["last_name"] == before.json()["user"]["last_name"]
    assert user["username"] == "member"
    assert user["updated_at"] > before.json()["user"]["updated_at"]
    assert user["created_at"] == before.json()["user"]["created_at"]
    stored = await identity.stored_user(identity.member.id)
    assert stored is not None
    assert (stored.first_name, stored.email) == ("Mem", "new@example.com")
    again = await client.get(PROFILE, headers=member_tokens.headers)
    assert again.json()["user"] == user


async def test_an_empty_update_changes_nothing(
    identity: IdentityHarness, client: httpx.AsyncClient, member_tokens: Tokens
) -> None:
    before = await identity.users_snapshot()
    response = await client.put(PROFILE, json={}, headers=member_tokens.headers)
    assert response.status_code == 200
    assert await identity.users_snapshot() == before
    assert await identity.outbox("identity.user.updated") == []


async def test_a_username_may_change_its_own_case(
    client: httpx.AsyncClient, member_tokens: Tokens
) -> None:
    response = await client.put(PROFILE, json={"username": "Member"}, headers=member_tokens.headers)
    assert response.status_code == 200
    assert response.json()["user"]["username"] == "Member"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"username": "BOSS"}, "Username already exists"),
        ({"email": "Boss@Example.com"}, "Email already exists"),
    ],
)
async def test_another_users_name_or_email_is_refused(
    identity: IdentityHarness,
    client: httpx.AsyncClient,
    member_tokens: Tokens,
    changes: dict[str, str],
    error: str,
) -> None:
    before = await identity.users_snapshot()
    response = await client.put(PROFILE, json=changes, headers=member_tokens.headers)
    assert response.status_code == 400
    assert response.json() == {"detail": error, "error": error}
    assert await identity.users_snapshot() == before


async def test_the_profile_cannot_set_role_id_state_or_password(
    identity: IdentityHarness, client: httpx.AsyncClient, member_tokens: Tokens
) -> None:
    before = await identity.users_snapshot()
    for field, value in [
        ("role", "admin"),
        ("is_active", False),
        ("id", 1),
        ("created_at", "2000-01-01T00:00:00Z"),
        ("password", "new-password-1"),
    ]:
        response = await client.put(
            PROFILE, json={"first_name": "Sneaky", field: value}, headers=member_tokens.headers
        )
        assert response.status_code == 400, field
        assert field in response.json()["error"], field
    assert await identity.users_snapshot() == before


async def test_change_password_keeps_this_session_and_ends_the_others(
    identity: IdentityHarness, client: httpx.AsyncClient
) -> None:
    tokens = await identity.login("member", USER_PASSWORD)
    elsewhere = await identity.login("member", USER_PASSWORD)

    response = await client.post(
        PASSWORD,
        json={"current_password": USER_PASSWORD, "new_password": "brand-new-secret"},
        headers=tokens.headers,
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"message": "Password changed successfully"}
    refresh = await client.post(
        "/api/v1/token/refresh", json={"refresh_token": elsewhere.refresh_token}
    )
    assert refresh.status_code == 401
    kept = await client.post("/api/v1/token/refresh", json={"refresh_token": tokens.refresh_token})
    assert kept.status_code == 200
    old = await client.post("/api/v1/login", json={"username": "member", "password": USER_PASSWORD})
    assert old.status_code == 401
    await identity.login("member", "brand-new-secret")


PASSWORD_REFUSALS = [
    (
        {"current_password": "not-my-password", "new_password": "brand-new-secret"},
        "Current password is incorrect",
    ),
    ({"current_password": USER_PASSWORD, "new_password": "short"}, "new_password"),
    ({"current_password": USER_PASSWORD, "new_password": "x" * 129}, "new_password"),
    (
        {"current_password": USER_PASSWORD, "new_password": "MEMBER@example.com"},
        "must not be the username or email",
    ),
    ({"new_password": "brand-new-secret"}, "current_password"),
]


async def test_change_password_refusals_change_nothing(
    identity: IdentityHarness, client: httpx.AsyncClient, member_tokens: Tokens
) -> None:
    before = await identity.users_snapshot()
    for body, message in PASSWORD_REFUSALS:
        response = await client.post(PASSWORD, json=body, headers=member_tokens.headers)
        assert response.status_code == 400, body
        assert message in response.json()["error"], body
    assert await identity.users_snapshot() == before
    assert await identity.outbox() == []
    refresh = await client.post(
        "/api/v1/token/refresh", json={"refresh_token": member_tokens.refresh_token}
    )
    assert refresh.status_code == 200
