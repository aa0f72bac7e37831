"""Every admin route: 401 without a token (or with a bad one), 403 for a user or an instructor,
and the public settings for anyone. Refused requests store nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.admin.conftest import Admin

BODY = {"key": "k", "value": "v"}
ADMIN_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/api/v1/logs/", None),
    ("GET", "/api/v1/settings/", None),
    ("POST", "/api/v1/settings/", BODY),
    ("GET", "/api/v1/settings/k/", None),
    ("PUT", "/api/v1/settings/k/", {"value": "w"}),
    ("PATCH", "/api/v1/settings/k/", {"value": "w"}),
    ("DELETE", "/api/v1/settings/k/", None),
    ("GET", "/api/v1/dashboard/", None),
    ("GET", "/api/v1/health-check/", None),
]


async def _stored(admin: Admin) -> None:
    response = await admin.client.post("/api/v1/settings/", json=BODY, headers=admin.admin)
    assert response.status_code == 201


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
async def test_anonymous_is_401_and_a_user_or_instructor_403(
    admin: Admin, method: str, path: str, body: dict[str, Any] | None
) -> None:
    await _stored(admin)
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = await admin.client.request(method, path, json=body, headers=headers)
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.json()["detail"]
    for role in ("user", "instructor"):
        headers = admin.tokens.headers(user_id=5, role=role)
        response = await admin.client.request(method, path, json=body, headers=headers)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json() == {
            "detail": "Insufficient permissions",
            "error": "Insufficient permissions",
        }
    assert await admin.settings_snapshot() == [("k", "v", "", False)]
    assert [event["type"] for event in await admin.outbox()] == ["admin.setting.created"]


async def test_the_public_settings_need_no_token(admin: Admin) -> None:
    for headers in ({}, admin.alice, admin.admin):
        response = await admin.client.get("/api/v1/settings/public", headers=headers)
        assert response.status_code == 200
