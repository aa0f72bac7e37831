"""Registration: the learning platform's `/api/v1/register/` (contract D) and the music player's
`POST /users` (contract C), uniqueness ignoring case, the password and email rules."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.identity.conftest import IdentityHarness, names_field

VALID = {"username": "alice", "email": "alice@example.com", "password": "correct-horse-1"}
READ_FIELDS = {"id", "username", "email", "first_name", "last_name", "created_at", "updated_at"}


@pytest.mark.usefixtures("production_hashing")
@pytest.mark.parametrize("path", ["/api/v1/register/", "/api/v1/register"])
async def test_register_creates_a_user_with_the_user_role(
    identity: IdentityHarness, client: httpx.AsyncClient, path: str
) -> None:
    body = {**VALID, "password_confirm": VALID["password"], "first_name": " Alice "}
    response = await client.post(path, json={**body, "last_name": "Liddell"})

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["message"] == "User created successfully"
    user = created["user"]
    assert set(user) >= READ_FIELDS
    assert user["username"] == "alice"
    assert user["email"] == "alice@example.com"
    assert (user["first_name"], user["last_name"]) == ("Alice", "Liddell")
    assert (user["role"], user["is_active"]) == ("user", True)
    assert datetime.fromisoformat(user["created_at"]).utcoffset() is not None
    assert response.headers["location"] == f"/api/v1/users/{user['id']}"

    stored = await identity.stored_user(user["id"])
    assert stored is not None
    assert stored.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert VALID["password"] not in stored.password_hash
    tokens = await identity.login("alice", VALID["password"])
    profile = await client.get("/api/v1/profile", headers=tokens.headers)
    assert profile.json()["user"]["id"] == user["id"]


async def test_legacy_post_users_registers_and_answers_the_bare_user(
    identity: IdentityHarness, client: httpx.AsyncClient
) -> None:
    response = await client.post("/users", json=VALID)

    assert response.status_code == 201, response.text
    user = response.json()
    assert set(user) >= READ_FIELDS
    assert user["role"] == "user"
    assert response.headers["location"] == f"/users/{user['id']}"
    assert await identity.user_count() == 3


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"username": "MEMBER"}, "Username already exists"),
        ({"username": "Member"}, "Username already exists"),
        ({"email": "Member@Example.COM"}, "Email already exists"),
    ],
)
async def test_usernames_and_emails_are_unique_ignoring_case(
    identity: IdentityHarness, client: httpx.AsyncClient, changes: dict[str, str], error: str
) -> None:
    response = await client.post("/api/v1/register", json={**VALID, **changes})
    assert response.status_code == 400
    assert response.json() == {"detail": error, "error": error}

    legacy = await client.post("/users", json={**VALID, **changes})
    assert legacy.status_code == 400
    assert legacy.json() == {"detail": error}
    assert await identity.user_count() == 2


WEAK_PASSWORDS = [
    ("short-7", "at least 8 characters"),
    ("x" * 129, "at most 128 characters"),
    ("Alice-the-user", "must not be the username or email"),
    ("alice-the-user", "must not be the username or email"),
    ("ALICE-THE-USER@example.com", "must not be the username or email"),
]


async def test_password_policy(identity: IdentityHarness, client: httpx.AsyncClient) -> None:
    body = {"username": "alice-the-user", "email": "alice-the-user@example.com"}
    for password, reason in WEAK_PASSWORDS:
        response = await client.post("/api/v1/register", json={**body, "password": password})

        assert response.status_code == 400, (password, response.text)
        error = response.json()["error"]
        assert reason in error, (password, error)
        assert "password" in error.lower()
    assert await identity.user_count() == 2


async def test_password_length_bounds_are_inclusive(
    identity: IdentityHarness, client: httpx.AsyncClient
) -> None:
    eight = await client.post("/api/v1/register", json={**VALID, "password": "8-chars!"})
    assert eight.status_code == 201, eight.text
    longest = {"username": "bob", "email": "bob@example.com", "password": "p" * 128}
    response = await client.post("/api/v1/register", json=longest)
    assert response.status_code == 201, response.text


INVALID_EMAILS = [
    "not-an-email",
    "two@@example.com",
    "@example.com",
    "user@",
    "user@nodot",
    "spaces in@example.com",
    f"{'a' * 250}@example.com",
]


async def test_email_must_be_valid(identity: IdentityHarness, client: httpx.AsyncClient) -> None:
    for email in INVALID_EMAILS:
        response = await client.post("/api/v1/register", json={**VALID, "email": email})

        assert response.status_code == 400, (email, response.text)
        assert names_field(response.json(), "email"), email
        assert response.json()["error"].startswith("email:"), email
    assert await identity.user_count() == 2


async def test_password_confirmation_must_match(
    identity: IdentityHarness, client: httpx.AsyncClient
) -> None:
    response = await client.post(
        "/api/v1/register", json={**VALID, "password_confirm": "something-else"}
    )
    assert response.status_code == 400
    assert "password_confirm does not match" in response.json()["error"]
    assert await identity.user_count() == 2


SMUGGLED: list[tuple[dict[str, Any], str]] = [
    ({"role": "admin"}, "role"),
    ({"role": "user"}, "role"),
    ({"id": 1}, "id"),
    ({"is_active": True}, "is_active"),
    ({"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
    ({"password_hash": "$argon2id$forged"}, "password_hash"),
]


async def test_a_client_cannot_set_its_role_id_or_timestamps(
    identity: IdentityHarness, client: httpx.AsyncClient
) -> None:
    for extra, field in SMUGGLED:
        response = await client.post("/api/v1/register", json={**VALID, **extra})
        assert response.status_code == 400, extra
        assert names_field(response.json(), field), extra
        assert field in response.json()["error"]

        legacy = await client.post("/users", json={**VALID, **extra})
        assert legacy.status_code == 422, extra
        assert names_field(legacy.json(), field), extra
    assert await identity.user_count() == 2


async def test_simultaneous_registrations_of_one_name_give_one_account(
    identity: IdentityHarness, client: httpx.AsyncClient
) -> None:
    """Whether the check or the unique index catches the loser, it gets the documented 400."""
    for field, error in (
        ("username", "Username already exists"),
        ("email", "Email already exists"),
    ):
        bodies = [
            {"username": f"racer{n}", "email": f"racer{n}@example.com", "password": "horse-1234"}
            | {field: f"same-{field}@example.com"}
            for n in range(4)
        ]
        responses = await asyncio.gather(
            *(client.post("/api/v1/register", json=body) for body in bodies)
        )
        statuses = sorted(response.status_code for response in responses)
        assert statuses == [201, 400, 400, 400], [response.text for response in responses]
        for response in responses:
            if response.status_code == 400:
                assert response.json() == {"detail": error, "error": error}
    assert await identity.user_count() == 4
