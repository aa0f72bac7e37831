"""Logging in (username or email, canonical and inherited routes) and the login rate limit."""

from __future__ import annotations

from typing import Any

import httpx
import jwt
import pytest

from tests.identity.conftest import USER_PASSWORD, IdentityHarness, bearer

LOGIN = "/api/v1/login/"
INVALID = {"detail": "Invalid credentials", "error": "Invalid credentials"}


def claims_of(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "member"},
        {"username": "MEMBER"},
        {"username": "member@example.com"},
        {"email": "Member@Example.com"},
    ],
    ids=["username", "username-any-case", "email-as-username", "email-field"],
)
async def test_login_with_username_or_email(
    identity: IdentityHarness, client: httpx.AsyncClient, credentials: dict[str, str]
) -> None:
    response = await client.post(LOGIN, json={**credentials, "password": USER_PASSWORD})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"] == "Login successful"
    member = identity.member
    assert body["user"] == {
        "id": member.id,
        "username": "member",
        "email": "member@example.com",
        "role": "user",
    }
    assert body["token"] == body["access_token"]
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    assert len(body["refresh_token"]) >= 32
    claims = claims_of(body["token"])
    assert claims["sub"] == str(member.id)
    assert claims["role"] == "user"
    assert claims["exp"] - claims["iat"] == 900
    profile = await client.get("/api/v1/profile", headers=bearer(body["token"]))
    assert profile.status_code == 200


async def test_login_records_the_time_but_is_not_an_account_change(
    identity: IdentityHarness,
) -> None:
    before = await identity.stored_user(identity.member.id)
    assert before is not None
    assert before.last_login_at is None
    await identity.login("member", USER_PASSWORD)
    after = await identity.stored_user(identity.member.id)
    assert after is not None
    assert after.last_login_at is not None
    assert after.updated_at == before.updated_at


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "member", "password": "wrong-password"},
        {"username": "nobody", "password": USER_PASSWORD},
        {"username": "nobody@example.com", "password": USER_PASSWORD},
    ],
    ids=["wrong-password", "unknown-user", "unknown-email"],
)
async def test_bad_credentials_are_401_with_one_message(
    identity: IdentityHarness, client: httpx.AsyncClient, credentials: dict[str, str]
) -> None:
    before = await identity.users_snapshot()
    response = await client.post(LOGIN, json=credentials)

    assert response.status_code == 401
    assert response.json() == INVALID
    assert response.headers["www-authenticate"] == "Bearer"
    assert await identity.users_snapshot() == before
    assert await identity.outbox("identity.user.logged_in") == []


async def test_a_deactivated_user_cannot_log_in(
    identity: IdentityHarness, client: httpx.AsyncClient
) -> None:
    await identity.add_user("sleeper", is_active=False)
    response = await client.post(LOGIN, json={"username": "sleeper", "password": USER_PASSWORD})
    assert response.status_code == 401
    assert response.json() == INVALID  # no hint that the password was right


async def test_legacy_auth_login(identity: IdentityHarness, client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/auth/login", json={"email": "member@example.com", "password": USER_PASSWORD}
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"auth_token", "user_id", "role"}
    assert (body["user_id"], body["role"]) == (identity.member.id, "user")
    claims = claims_of(body["auth_token"])
    assert claims["sub"] == str(identity.member.id)
    assert claims["role"] == "user"
    assert isinstance(claims["exp"], int)
    assert isinstance(claims["iat"], int)
    users = await client.get("/users", headers=bearer(body["auth_token"]))
    assert users.status_code == 200

    admin = await client.post(
        "/auth/login/", json={"email": "boss@example.com", "password": "admin-Passw0rd!"}
    )
    assert admin.status_code == 200
    assert admin.json()["role"] == "admin"


async def test_legacy_auth_login_errors(
    identity: IdentityHarness, client: httpx.AsyncClient
) -> None:
    wrong = await client.post(
        "/auth/login", json={"email": "member@example.com", "password": "not-the-password"}
    )
    assert wrong.status_code == 401
    assert wrong.json() == {"detail": "Invalid credentials"}

    missing = await client.post("/auth/login", json={"email": "member@example.com"})
    assert missing.status_code == 422
    assert [error["loc"] for error in missing.json()["detail"]] == [["body", "password"]]


async def _fail(client: httpx.AsyncClient, username: str = "member", **kwargs: Any) -> int:
    response = await client.post(
        LOGIN, json={"username": username, "password": "wrong-password"}, **kwargs
    )
    return response.status_code


async def test_five_failures_a_minute_then_429(
    identity: IdentityHarness, client: httpx.AsyncClient
) -> None:
    assert [await _fail(client) for _ in range(5)] == [401] * 5

    limited = await client.post(LOGIN, json={"username": "member", "password": USER_PASSWORD})
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.json()["detail"] == limited.json()["error"]
    # Other spellings of the same account share its counter ...
    for other_name in ("MEMBER", "member@example.com"):
        again = await client.post(LOGIN, json={"username": other_name, "password": USER_PASSWORD})
        assert again.status_code == 429
    legacy = await client.post(
        "/auth/login", json={"email": "member@example.com", "password": USER_PASSWORD}
    )
    assert legacy.status_code == 429
    # ... and a client cannot pick another address with X-Forwarded-For.
    spoofed = {"X-Forwarded-For": "198.51.100.99"}
    assert await _fail(client, headers=spoofed) == 429

    # Another client address, and another account from this address, are unaffected.
    async with identity.client_from("198.51.100.7") as elsewhere:
        tokens = await elsewhere.post(LOGIN, json={"username": "member", "password": USER_PASSWORD})
        assert tokens.status_code == 200
    boss = await client.post(LOGIN, json={"username": "boss", "password": "admin-Passw0rd!"})
    assert boss.status_code == 200


async def test_a_successful_login_resets_the_failure_count(
    identity: IdentityHarness, client: httpx.AsyncClient
) -> None:
    assert [await _fail(client) for _ in range(4)] == [401] * 4
    await identity.login("member", USER_PASSWORD)
    assert [await _fail(client) for _ in range(5)] == [401] * 5
    assert await _fail(client) == 429


async def test_failures_of_unknown_names_are_limited_too(client: httpx.AsyncClient) -> None:
    assert [await _fail(client, "ghost") for _ in range(6)] == [401] * 5 + [429]


async def test_login_needs_a_username_or_an_email(
    identity: IdentityHarness, client: httpx.AsyncClient
) -> None:
    for body in ({"password": USER_PASSWORD}, {"username": "", "password": USER_PASSWORD}):
        response = await client.post(LOGIN, json=body)
        assert response.status_code == 400
        assert "username" in response.json()["error"]
