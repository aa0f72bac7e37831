"""Bad input on every write route: a missing field, a wrong type, an oversized string, malformed
JSON, a body that is not an object, and a field the client may not send. Each is refused with a
4xx naming the field, and nothing is stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.identity.conftest import (
    ADMIN_PASSWORD,
    USER_PASSWORD,
    IdentityHarness,
    Tokens,
    error_locations,
)

MALFORMED = b'{"username": "alice", "password": '


@dataclass(frozen=True)
class WriteRoute:
    method: str
    path: str  # `{member}` stands for the seeded user's id
    caller: str | None  # None, "member" or "admin"
    status: int  # what a validation error answers on this route
    valid: dict[str, Any]
    required: tuple[str, ...]
    strings: dict[str, int]  # field -> its maximum length
    forbidden: tuple[str, ...] = ("id", "role")
    legacy_key: str | None = None
    wrong_types: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


REGISTER_BODY = {"username": "alice", "email": "alice@example.com", "password": "correct-horse"}

ROUTES = [
    WriteRoute(
        "POST",
        "/api/v1/register",
        None,
        400,
        REGISTER_BODY,
        ("username", "email", "password"),
        {"username": 150, "password": 128, "first_name": 150, "last_name": 150},
        ("id", "role", "is_active", "created_at"),
        legacy_key="error",
    ),
    WriteRoute(
        "POST",
        "/api/v1/login",
        None,
        400,
        {"username": "member", "password": USER_PASSWORD},
        ("password",),
        {"username": 254, "password": 128},
        ("id", "role"),
        legacy_key="error",
    ),
    WriteRoute(
        "POST",
        "/api/v1/token/refresh",
        None,
        422,
        {"refresh_token": "whatever"},
        ("refresh_token",),
        {"refresh_token": 512},
        ("user_id", "role"),
    ),
    WriteRoute(
        "POST",
        "/api/v1/logout",
        "member",
        400,
        {"refresh_token": "whatever"},
        (),
        {"refresh_token": 512},
        ("all", "user_id"),
        legacy_key="error",
    ),
    WriteRoute(
        "PUT",
        "/api/v1/profile",
        "member",
        400,
        {"first_name": "Mem"},
        (),
        {"username": 150, "first_name": 150, "last_name": 150},
        ("id", "role", "is_active", "updated_at", "password"),
        legacy_key="error",
    ),
    WriteRoute(
        "POST",
        "/api/v1/profile/password",
        "member",
        400,
        {"current_password": USER_PASSWORD, "new_password": "brand-new-secret"},
        ("current_password", "new_password"),
        {"current_password": 128, "new_password": 128},
        ("id", "user_id"),
        legacy_key="error",
    ),
    WriteRoute(
        "PUT",
        "/api/v1/users/{member}",
        "admin",
        422,
        {"first_name": "Changed"},
        (),
        {"username": 150, "first_name": 150, "last_name": 150},
        ("id", "created_at", "password", "password_hash"),
        wrong_types={"role": 1, "is_active": "perhaps"},
    ),
    WriteRoute(
        "POST",
        "/auth/login",
        None,
        422,
        {"email": "member@example.com", "password": USER_PASSWORD},
        ("email", "password"),
        {"email": 254, "password": 128},
        (),
    ),
    WriteRoute(
        "POST",
        "/users",
        None,
        422,
        REGISTER_BODY,
        ("username", "email", "password"),
        {"username": 150, "password": 128, "first_name": 150},
        ("id", "role", "is_active", "created_at"),
    ),
    WriteRoute(
        "PUT",
        "/users/{member}",
        "admin",
        422,
        {"first_name": "Changed"},
        (),
        {"username": 150, "password": 128, "first_name": 150},
        ("id", "created_at", "password_hash"),
        wrong_types={"role": ["admin"], "is_active": {}},
    ),
]


def _cases(route: WriteRoute) -> list[tuple[str, Any, str | None]]:
    """(case name, JSON body or raw bytes, the field the error must name)."""
    cases: list[tuple[str, Any, str | None]] = []
    for name in route.required:
        body = {key: value for key, value in route.valid.items() if key != name}
        cases.append((f"missing {name}", body, name))
    for name in route.strings:
        cases.append((f"{name} not a string", {**route.valid, name: 12345}, name))
    for name, value in route.wrong_types.items():
        cases.append((f"{name} of the wrong type", {**route.valid, name: value}, name))
    for name, limit in route.strings.items():
        cases.append((f"{name} too long", {**route.valid, name: "x" * (limit + 1)}, name))
    for name in route.forbidden:
        cases.append((f"unknown field {name}", {**route.valid, name: 1}, name))
    cases.append(("malformed JSON", MALFORMED, None))
    cases.append(("a list instead of an object", [route.valid], None))
    return cases


@pytest.mark.parametrize("route", ROUTES, ids=str)
async def test_bad_input_is_refused_and_nothing_is_stored(
    identity: IdentityHarness, client: httpx.AsyncClient, route: WriteRoute
) -> None:
    tokens: Tokens | None = None
    if route.caller == "member":
        tokens = await identity.tokens(identity.member)
    elif route.caller == "admin":
        tokens = await identity.tokens(identity.admin)
    headers = tokens.headers if tokens else {}
    path = route.path.format(member=identity.member.id)
    users_before = await identity.users_snapshot()
    tokens_before = len(await identity.refresh_tokens(identity.member.id))

    for name, body, field_name in _cases(route):
        if isinstance(body, bytes):
            response = await client.request(
                route.method,
                path,
                content=body,
                headers={**headers, "Content-Type": "application/json"},
            )
        else:
            response = await client.request(route.method, path, json=body, headers=headers)

        assert response.status_code == route.status, (name, response.text)
        error = response.json()
        assert isinstance(error["detail"], list), name
        if field_name is not None:
            assert field_name in error_locations(error), (name, error)
        else:
            assert error["detail"], name
        if name == "malformed JSON":
            assert error["detail"][0]["type"] == "json_invalid"
        if route.legacy_key:
            text = error[route.legacy_key]
            assert isinstance(text, str)
            assert field_name is None or field_name in text, (name, text)

    assert await identity.users_snapshot() == users_before
    assert len(await identity.refresh_tokens(identity.member.id)) == tokens_before
    assert await identity.outbox() == []
    if tokens is not None:  # a refused logout did not log out
        profile = await client.get("/api/v1/profile", headers=tokens.headers)
        assert profile.status_code == 200


async def test_an_oversized_login_does_not_reach_the_password_check(
    identity: IdentityHarness, client: httpx.AsyncClient
) -> None:
    """A huge password is refused before it is hashed, and does not count as a failure."""
    for _ in range(6):
        response = await client.post(
            "/api/v1/login", json={"username": "boss", "password": "p" * 100_000}
        )
        assert response.status_code == 400
    await identity.login("boss", ADMIN_PASSWORD)
