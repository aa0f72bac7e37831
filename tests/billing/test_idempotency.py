"""`Idempotency-Key`: the same key from the same user returns the same order, never a second."""

from __future__ import annotations

import asyncio

import pytest

from tests.billing.conftest import BOB_ID, LEGACY_ORDER, ORDER, Billing

URL = "/api/v1/billing/orders"


async def test_same_key_same_order(billing: Billing) -> None:
    headers = {**billing.alice, "Idempotency-Key": "order-1"}
    first = await billing.client.post(URL, json=ORDER, headers=headers)
    again = await billing.client.post(URL, json=ORDER, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert await billing.order_count() == 1
    assert len(await billing.outbox()) == 1


async def test_key_is_per_user(billing: Billing) -> None:
    for user in (billing.alice, billing.bob):
        response = await billing.client.post(
            URL, json=ORDER, headers={**user, "Idempotency-Key": "shared"}
        )
        assert response.status_code == 202
    assert await billing.order_count() == 2


async def test_key_per_billed_user_when_an_admin_bills(billing: Billing) -> None:
    headers = {**billing.admin, "Idempotency-Key": "k"}
    first = await billing.client.post(URL, json={**ORDER, "user_id": BOB_ID}, headers=headers)
    again = await billing.client.post(URL, json={**ORDER, "user_id": BOB_ID}, headers=headers)
    assert first.json()["id"] == again.json()["id"]


async def test_inherited_route_shares_keys(billing: Billing) -> None:
    headers = {**billing.alice, "Idempotency-Key": "both-routes"}
    legacy = await billing.client.post("/api/billing", json=LEGACY_ORDER, headers=headers)
    canonical = await billing.client.post(URL, json=LEGACY_ORDER, headers=headers)
    assert legacy.status_code == canonical.status_code == 202
    assert legacy.json()["order_id"] == canonical.json()["id"]
    assert await billing.order_count() == 1


async def test_same_key_different_order_conflicts(billing: Billing) -> None:
    headers = {**billing.alice, "Idempotency-Key": "order-1"}
    await billing.client.post(URL, json=ORDER, headers=headers)
    other = await billing.client.post(URL, json={**ORDER, "total_amount": 1}, headers=headers)
    assert other.status_code == 409
    assert other.json() == {"detail": "This Idempotency-Key was already used for a different order"}
    assert await billing.order_count() == 1


async def test_concurrent_requests_with_one_key_create_one_order(billing: Billing) -> None:
    headers = {**billing.alice, "Idempotency-Key": "race"}
    responses = await asyncio.gather(
        *(billing.client.post(URL, json=ORDER, headers=headers) for _ in range(8))
    )
    assert {response.status_code for response in responses} == {202}
    assert len({response.json()["id"] for response in responses}) == 1
    assert await billing.order_count() == 1
    assert len(await billing.outbox()) == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\tkey", "with space"])
async def test_bad_keys_are_refused(billing: Billing, key: str) -> None:
    response = await billing.client.post(
        URL, json=ORDER, headers={**billing.alice, "Idempotency-Key": key}
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Idempotency-Key: ")
    assert await billing.order_count() == 0
