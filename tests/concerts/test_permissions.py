"""Who may call what: anonymous callers, users and admins on every route."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.concerts.conftest import CONCERT, Concerts

PUBLIC, USER, ADMIN = "public", "user", "admin"

# (method, path, body, who may call it, its success status); `{id}` is a stored concert.
ROUTES: list[tuple[str, str, dict[str, Any] | None, str, int]] = [
    ("GET", "/api/v1/concerts", None, PUBLIC, 200),
    ("GET", "/api/v1/concerts/{id}", None, PUBLIC, 200),
    ("POST", "/api/v1/concerts", CONCERT, ADMIN, 201),
    ("PUT", "/api/v1/concerts/{id}", CONCERT, ADMIN, 200),
    ("PATCH", "/api/v1/concerts/{id}", {"duration": 61}, ADMIN, 200),
    ("GET", "/api/v1/concerts/{id}/attendance", None, USER, 200),
    ("PUT", "/api/v1/concerts/{id}/attendance", {"status": "Attending"}, USER, 200),
    ("GET", "/api/v1/me/concerts", None, USER, 200),
    ("GET", "/api/v1/concerts/{id}/attendees", None, ADMIN, 200),
    ("DELETE", "/api/v1/concerts/{id}", None, ADMIN, 204),
]
RANK = {PUBLIC: 0, USER: 1, ADMIN: 2}


@pytest.mark.parametrize(("method", "path", "body", "needs", "success"), ROUTES)
async def test_permission_matrix(
    concerts: Concerts,
    client: httpx.AsyncClient,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    needs: str,
    success: int,
) -> None:
    callers: dict[str, dict[str, str]] = {
        PUBLIC: {},
        USER: concerts.alice,
        ADMIN: concerts.admin,
    }
    for caller, headers in callers.items():
        concert_id = await concerts.add_concert()
        before = await concerts.concerts_snapshot()
        response = await client.request(
            method, path.format(id=concert_id), json=body, headers=headers
        )
        if RANK[caller] >= RANK[needs]:
            assert response.status_code == success, (caller, response.text)
            continue
        if caller == PUBLIC:
            assert response.status_code == 401, (caller, response.text)
            assert response.headers["www-authenticate"] == "Bearer"
            assert response.json() == {"detail": "Not authenticated"}
        else:
            assert response.status_code == 403, (caller, response.text)
            assert response.json() == {"detail": "Insufficient permissions"}
        assert await concerts.concerts_snapshot() == before
        assert await concerts.attendance_rows() == []


@pytest.mark.parametrize(
    ("authorization", "anonymous"),
    [
        ("Bearer not-a-token", False),
        ("Bearer a.b.c", False),
        # No bearer credentials at all: the caller is anonymous.
        ("Bearer ", True),
        ("Basic dXNlcjpwYXNz", True),
    ],
)
async def test_bad_tokens_are_401_even_on_public_routes(
    concerts: Concerts, client: httpx.AsyncClient, authorization: str, anonymous: bool
) -> None:
    concert_id = await concerts.add_concert()
    for path in ("/api/v1/me/concerts", f"/api/v1/concerts/{concert_id}", "/api/v1/concerts"):
        response = await client.get(path, headers={"Authorization": authorization})
        public = not path.endswith("me/concerts")
        expected = 200 if anonymous and public else 401
        assert response.status_code == expected, (path, response.text)


async def test_expired_and_foreign_tokens_are_refused(
    concerts: Concerts, client: httpx.AsyncClient
) -> None:
    from tests.support.tokens import TokenFactory

    expired = concerts.tokens.token(user_id=2, lifetime=-60)
    foreign = TokenFactory().token(user_id=2, role="admin")  # signed with another key
    for token in (expired, foreign):
        response = await client.post(
            "/api/v1/concerts", json=CONCERT, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401
    assert await concerts.concert_count() == 0
