"""Bad input on the canonical write routes: a 4xx naming the field, and nothing stored."""

from __future__ import annotations

from typing import Any

import pytest

from tests.billing.conftest import ORDER, Billing, error_locations

URL = "/api/v1/billing/orders"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"total_amount": 1}, "number_of_items"),
        ({"number_of_items": 1}, "total_amount"),
        ({**ORDER, "number_of_items": 0}, "number_of_items"),
        ({**ORDER, "number_of_items": 10**9}, "number_of_items"),
        ({**ORDER, "number_of_items": "3"}, "number_of_items"),
        ({**ORDER, "total_amount": -0.01}, "total_amount"),
        ({**ORDER, "total_amount": "1.001"}, "total_amount"),
        ({**ORDER, "total_amount": "Infinity"}, "total_amount"),
        ({**ORDER, "total_amount": 1e300}, "total_amount"),
        ({**ORDER, "total_amount": "9" * 40}, "total_amount"),
        ({**ORDER, "total_amount": [1]}, "total_amount"),
        ({**ORDER, "user_id": "usr_"}, "user_id"),
        ({**ORDER, "user_id": 2**31}, "user_id"),
        ({**ORDER, "user_id": 1.5}, "user_id"),
        ({**ORDER, "currency": "E1R"}, "currency"),
        ({**ORDER, "currency": None}, "currency"),
    ],
)
async def test_bad_order_names_the_field(
    billing: Billing, body: dict[str, Any], field: str
) -> None:
    response = await billing.client.post(URL, json=body, headers=billing.alice)
    assert response.status_code == 422, response.text
    assert field in error_locations(response.json())
    assert await billing.order_count() == 0
    assert await billing.outbox_rows() == 0


@pytest.mark.parametrize("raw", [b"{", b"[]", b'"order"', b"null"])
async def test_body_that_is_not_an_order(billing: Billing, raw: bytes) -> None:
    response = await billing.client.post(
        URL, content=raw, headers={**billing.alice, "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert await billing.order_count() == 0


async def test_client_cannot_set_status_or_id(billing: Billing) -> None:
    body = {**ORDER, "id": "00000000-0000-0000-0000-000000000001", "status": "completed"}
    response = await billing.client.post(URL, json=body, headers=billing.alice)
    assert response.status_code == 202
    assert response.json()["status"] == "pending"
    assert response.json()["id"] != body["id"]


@pytest.mark.parametrize(
    "body", [{"message_ids": "all"}, {"message_ids": [""]}, {"everything": True}]
)
async def test_bad_redrive_body(billing: Billing, body: dict[str, Any]) -> None:
    response = await billing.client.post(
        "/api/v1/billing/dead-letters/redrive", json=body, headers=billing.admin
    )
    assert response.status_code == 422
