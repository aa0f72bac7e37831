"""Who may call what: anonymous callers, users and admins on every billing route."""

from __future__ import annotations

from typing import Any

import pytest

from tests.billing.conftest import ORDER, Billing

USER, ADMIN = "user", "admin"

# (method, path, body, who may call it, its success status); `{id}` is one of Alice's orders.
ROUTES: list[tuple[str, str, dict[str, Any] | None, str, int]] = [
    ("POST", "/api/v1/billing/orders", ORDER, USER, 202),
    ("POST", "/api/billing", ORDER, USER, 202),
    ("GET", "/api/v1/billing/orders", None, USER, 200),
    ("GET", "/api/v1/billing/orders/{id}", None, USER, 200),
    ("GET", "/api/v1/billing/dead-letters", None, ADMIN, 200),
    ("POST", "/api/v1/billing/dead-letters/redrive", {}, ADMIN, 200),
]


async def alice_order(billing: Billing) -> str:
    response = await billing.client.post(
        "/api/v1/billing/orders", json=ORDER, headers=billing.alice
    )
    order_id: str = response.json()["id"]
    return order_id


@pytest.mark.parametrize(("method", "path", "body", "who", "success"), ROUTES)
async def test_permission_matrix(
    billing: Billing,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    who: str,
    success: int,
) -> None:
    url = path.replace("{id}", await alice_order(billing))
    before = await billing.order_count()

    anonymous = await billing.client.request(method, url, json=body)
    assert anonymous.status_code == 401, anonymous.text
    assert anonymous.headers["WWW-Authenticate"] == "Bearer"

    as_user = await billing.client.request(method, url, json=body, headers=billing.alice)
    assert as_user.status_code == (success if who == USER else 403), as_user.text
    if who == ADMIN:
        assert as_user.json()["detail"] == "Insufficient permissions"

    as_admin = await billing.client.request(method, url, json=body, headers=billing.admin)
    assert as_admin.status_code == success, as_admin.text
    if method == "POST" and path in ("/api/v1/billing/orders", "/api/billing"):
        assert await billing.order_count() == before + 2
    else:
        assert await billing.order_count() == before


async def test_invalid_and_expired_tokens_are_401(billing: Billing) -> None:
    expired = billing.tokens.token(user_id=2, lifetime=-60)
    for token in ("garbage", expired):
        response = await billing.client.post(
            "/api/v1/billing/orders", json=ORDER, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401
    assert await billing.order_count() == 0


async def test_another_users_order_is_hidden(billing: Billing) -> None:
    order_id = await alice_order(billing)
    response = await billing.client.get(f"/api/v1/billing/orders/{order_id}", headers=billing.bob)
    assert response.status_code == 404
    listed = await billing.client.get("/api/v1/billing/orders", headers=billing.bob)
    assert listed.json()["count"] == 0
