"""Who may call what: every identity route against an anonymous caller, a user, an instructor and
an admin. Anonymous callers get 401 with `WWW-Authenticate: Bearer`; known callers without the
role get 403 `{"detail": "Insufficient permissions"}`. Every route also answers with and without
its trailing slash, without redirecting."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.identity.conftest import Account, IdentityHarness

Body = Callable[[Account], dict[str, Any]] | None


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # `{member}` stands for the seeded user's id
    allowed: str  # "user": any signed-in caller; "admin": admins only
    body: Body = None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _new_password(account: Account) -> dict[str, Any]:
    return {"current_password": account.password, "new_password": account.password + "-next"}


PROTECTED = [
    Route("GET", "/api/v1/profile", "user"),
    Route("PUT", "/api/v1/profile", "user", lambda account: {"first_name": account.username}),
    Route("PATCH", "/api/v1/profile", "user", lambda account: {"last_name": account.username}),
    Route("POST", "/api/v1/profile/password", "user", _new_password),
    Route("POST", "/api/v1/logout", "user"),
    Route("GET", "/api/v1/users", "admin"),
    Route("GET", "/api/v1/users/{member}", "admin"),
    Route("PUT", "/api/v1/users/{member}", "admin", lambda _: {"first_name": "Changed"}),
    Route("PATCH", "/api/v1/users/{member}", "admin", lambda _: {"role": "instructor"}),
    Route("DELETE", "/api/v1/users/{member}", "admin"),
    Route("GET", "/users", "user"),
    Route("GET", "/users/{member}", "user"),
    Route("PUT", "/users/{member}", "admin", lambda _: {"first_name": "Changed"}),
    Route("DELETE", "/users/{member}", "admin"),
]


@pytest.mark.parametrize("route", PROTECTED, ids=str)
async def test_permission_matrix(
    identity: IdentityHarness, client: httpx.AsyncClient, route: Route
) -> None:
    instructor = await identity.add_user("teacher", role="instructor")
    path = route.path.format(member=identity.member.id)

    async def call(account: Account | None, trailing_slash: bool) -> httpx.Response:
        headers = (await identity.tokens(account)).headers if account else {}
        body = route.body(account or identity.member) if route.body else None
        url = path + "/" if trailing_slash else path
        return await client.request(route.method, url, json=body, headers=headers)

    anonymous = await call(None, trailing_slash=True)
    assert anonymous.status_code == 401, anonymous.text
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert anonymous.json()["detail"] == "Not authenticated"

    for account in (identity.member, instructor):
        response = await call(account, trailing_slash=account is instructor)
        if route.allowed == "admin":
            assert response.status_code == 403, (account.role, response.text)
            assert response.json() == {"detail": "Insufficient permissions"}
        else:
            assert response.status_code == 200, (account.role, response.text)

    before = await identity.user_count()
    response = await call(identity.admin, trailing_slash=False)
    assert response.status_code in (200, 204), response.text
    if route.method == "DELETE":
        assert await identity.user_count() == before - 1


PUBLIC: list[tuple[str, str, dict[str, Any] | None, int]] = [
    ("GET", "/.well-known/jwks.json", None, 200),
    ("GET", "/health", None, 200),
    ("POST", "/api/v1/register", {}, 400),
    ("POST", "/api/v1/login", {}, 400),
    ("POST", "/api/v1/token/refresh", {}, 422),
    ("POST", "/auth/login", {}, 422),
    ("POST", "/users", {}, 422),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"), PUBLIC, ids=[f"{m} {p}" for m, p, _, _ in PUBLIC]
)
async def test_public_routes_need_no_token(
    client: httpx.AsyncClient, method: str, path: str, body: Any, status: int
) -> None:
    for url in (path, path + "/"):
        response = await client.request(method, url, json=body)
        assert response.status_code == status, (url, response.text)
