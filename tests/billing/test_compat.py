"""The streaming platform's `POST /api/billing` (contract A): its exact bodies and statuses."""

from __future__ import annotations

import uuid

import pytest

from tests.billing.conftest import ALICE_ID, BOB_ID, LEGACY_ORDER, Billing


async def test_accepted_body_is_exactly_the_original(billing: Billing) -> None:
    response = await billing.client.post("/api/billing", json=LEGACY_ORDER, headers=billing.alice)
    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"message", "order_id", "status"}
    assert body["message"] == "Message posted"
    assert body["status"] == "pending"
    order_id = uuid.UUID(body["order_id"])
    assert response.headers["Location"] == f"/api/v1/billing/orders/{order_id}"
    [order] = await billing.orders()
    assert order.id == order_id
    assert order.user_id == ALICE_ID
    assert len(await billing.outbox()) == 1


async def test_trailing_slash_and_user_id_from_the_token(billing: Billing) -> None:
    body = {"number_of_items": 1, "total_amount": 5}
    response = await billing.client.post("/api/billing/", json=body, headers=billing.bob)
    assert response.status_code == 202
    [order] = await billing.orders()
    assert order.user_id == BOB_ID


@pytest.mark.parametrize("user_id", [ALICE_ID, str(ALICE_ID), f"usr_{ALICE_ID}"])
async def test_user_id_shapes_name_the_same_user(billing: Billing, user_id: object) -> None:
    order = {"user_id": user_id, "number_of_items": 1, "total_amount": 1}
    response = await billing.client.post("/api/billing", json=order, headers=billing.alice)
    assert response.status_code == 202


@pytest.mark.parametrize("raw", [b"{not json", b"", b'{"number_of_items": 3,}', b"\xff\xfe"])
async def test_invalid_json(billing: Billing, raw: bytes) -> None:
    response = await billing.client.post(
        "/api/billing",
        content=raw,
        headers={**billing.alice, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid JSON", "detail": "Invalid JSON"}
    assert await billing.order_count() == 0


async def test_json_that_is_not_an_object(billing: Billing) -> None:
    response = await billing.client.post("/api/billing", json=[1, 2], headers=billing.alice)
    assert response.status_code == 400
    assert response.json()["error"] == "JSON object required"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"number_of_items": None}, "number_of_items"),
        ({"number_of_items": 0}, "number_of_items"),
        ({"number_of_items": "three"}, "number_of_items"),
        ({"number_of_items": 2.5}, "number_of_items"),
        ({"number_of_items": True}, "number_of_items"),
        ({"total_amount": -1}, "total_amount"),
        ({"total_amount": 1.234}, "total_amount"),
        ({"total_amount": "abc"}, "total_amount"),
        ({"total_amount": "NaN"}, "total_amount"),
        ({"total_amount": 1e12}, "total_amount"),
        # Too large for the column, and too large to round to cents at Decimal's precision.
        ({"total_amount": 1e300}, "total_amount"),
        ({"total_amount": "9" * 40}, "total_amount"),
        ({"total_amount": None}, "total_amount"),
        ({"user_id": "usr_abc"}, "user_id"),
        ({"user_id": 0}, "user_id"),
        ({"user_id": False}, "user_id"),
        ({"currency": "EURO"}, "currency"),
        ({"currency": 978}, "currency"),
    ],
)
async def test_bad_field_is_named(billing: Billing, change: dict[str, object], field: str) -> None:
    order = {**LEGACY_ORDER, **change}
    order = {key: value for key, value in order.items() if value is not None}
    response = await billing.client.post("/api/billing", json=order, headers=billing.alice)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"].startswith(f"{field}: "), body
    assert body["detail"] == body["error"]
    assert await billing.order_count() == 0
    assert await billing.outbox_rows() == 0


async def test_needs_a_token(billing: Billing) -> None:
    response = await billing.client.post("/api/billing", json=LEGACY_ORDER)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["error"] == response.json()["detail"]
    assert await billing.order_count() == 0


async def test_billing_someone_else_is_forbidden(billing: Billing) -> None:
    order = {**LEGACY_ORDER, "user_id": f"usr_{BOB_ID}"}
    response = await billing.client.post("/api/billing", json=order, headers=billing.alice)
    assert response.status_code == 403
    assert response.json() == {
        "detail": "You can only place orders for yourself",
        "error": "You can only place orders for yourself",
    }
    assert await billing.order_count() == 0


async def test_admin_bills_a_legacy_user_id(billing: Billing) -> None:
    order = {**LEGACY_ORDER, "user_id": f"usr_{BOB_ID}"}
    response = await billing.client.post("/api/billing", json=order, headers=billing.admin)
    assert response.status_code == 202
    [stored] = await billing.orders()
    assert stored.user_id == BOB_ID
    assert stored.created_by == 1
