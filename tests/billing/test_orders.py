"""The canonical order API: placing (202, Location, outbox), reading and listing orders."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import update

from bandstand.billing.models import Order
from bandstand.platform.clock import utcnow
from tests.billing.conftest import ALICE_ID, BOB_ID, ORDER, Billing
from tests.support.bodies import assert_lists_exactly


async def place(billing: Billing, headers: dict[str, str], **fields: object) -> dict[str, object]:
    response = await billing.client.post(
        "/api/v1/billing/orders", json={**ORDER, **fields}, headers=headers
    )
    assert response.status_code == 202, response.text
    body: dict[str, object] = response.json()
    return body


async def test_place_order_stores_a_pending_order_and_its_message(billing: Billing) -> None:
    response = await billing.client.post(
        "/api/v1/billing/orders",
        json={"number_of_items": 2, "total_amount": "12.50", "currency": "gbp"},
        headers=billing.alice,
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert response.headers["Location"] == f"/api/v1/billing/orders/{body['id']}"
    assert body["user_id"] == ALICE_ID
    assert body["status"] == "pending"
    assert body["total_amount"] == "12.50"
    assert body["currency"] == "GBP"
    assert body["processed_at"] is None
    assert body["failure_reason"] is None
    [order] = await billing.orders()
    assert str(order.id) == body["id"]
    assert order.total_amount == Decimal("12.50")
    [message] = await billing.outbox()
    assert message["type"] == "billing.order.created"
    assert message["payload"] == {
        "order_id": body["id"],
        "user_id": ALICE_ID,
        "number_of_items": 2,
        "total_amount": "12.50",
        "currency": "GBP",
        "status": "pending",
        "created_at": message["payload"]["created_at"],
        "actor_id": ALICE_ID,
    }


async def test_currency_defaults_to_eur(billing: Billing) -> None:
    body = await place(billing, billing.alice)
    assert body["currency"] == "EUR"
    assert body["total_amount"] == "99.97"


async def test_admin_bills_another_user(billing: Billing) -> None:
    body = await place(billing, billing.admin, user_id=BOB_ID)
    assert body["user_id"] == BOB_ID
    [message] = await billing.outbox()
    assert message["payload"]["actor_id"] == 1


async def test_user_naming_themself_is_accepted(billing: Billing) -> None:
    body = await place(billing, billing.alice, user_id=ALICE_ID)
    assert body["user_id"] == ALICE_ID


async def test_get_order_owner_and_admin(billing: Billing) -> None:
    body = await place(billing, billing.alice)
    url = f"/api/v1/billing/orders/{body['id']}"
    for headers in (billing.alice, billing.admin):
        response = await billing.client.get(url, headers=headers)
        assert response.status_code == 200
        assert response.json() == body
    assert (await billing.client.get(url + "/", headers=billing.alice)).status_code == 200


async def test_get_order_of_someone_else_is_not_found(billing: Billing) -> None:
    body = await place(billing, billing.alice)
    response = await billing.client.get(f"/api/v1/billing/orders/{body['id']}", headers=billing.bob)
    assert response.status_code == 404
    assert response.json() == {"detail": f"Order {body['id']} not found"}


async def test_get_unknown_and_malformed_order(client: httpx.AsyncClient, billing: Billing) -> None:
    unknown = uuid.uuid4()
    response = await client.get(f"/api/v1/billing/orders/{unknown}", headers=billing.admin)
    assert response.status_code == 404
    response = await client.get("/api/v1/billing/orders/not-a-uuid", headers=billing.admin)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "order_id"]


async def test_list_own_orders_newest_first(billing: Billing) -> None:
    first = await place(billing, billing.alice)
    second = await place(billing, billing.alice, total_amount=1)
    await place(billing, billing.bob)
    response = await billing.client.get("/api/v1/billing/orders", headers=billing.alice)
    assert response.status_code == 200
    page = response.json()
    assert page["count"] == 2
    assert [order["id"] for order in page["results"]] == [second["id"], first["id"]]


async def test_a_listed_order_is_written_exactly_as_the_order_alone(billing: Billing) -> None:
    pending = await place(billing, billing.alice, total_amount="0.5", currency="USD")
    completed = await place(billing, billing.alice, total_amount="1234.56", number_of_items=3)
    failed = await place(billing, billing.bob)
    async with billing.session() as session:
        await session.execute(
            update(Order)
            .where(Order.id == uuid.UUID(str(completed["id"])))
            .values(
                status="completed",
                processed_at=utcnow(),
                tax_rate=Decimal("0.2300"),
                net_amount=Decimal("1003.71"),
                tax_amount=Decimal("230.85"),
            )
        )
        await session.execute(
            update(Order)
            .where(Order.id == uuid.UUID(str(failed["id"])))
            .values(status="failed", processed_at=utcnow(), failure_reason='Card "declined" ✗')
        )
    newest_first = [failed["id"], completed["id"], pending["id"]]
    alone = []
    for order_id in newest_first:
        response = await billing.client.get(
            f"/api/v1/billing/orders/{order_id}", headers=billing.admin
        )
        assert response.status_code == 200
        alone.append(response.content)
    page = await billing.client.get("/api/v1/billing/orders", headers=billing.admin)
    assert page.content.startswith(b'{"count":3,"next":null,"previous":null,"results":[')
    assert_lists_exactly(page.content, alone)
    own = await billing.client.get(
        "/api/v1/billing/orders?page_size=1&page=2", headers=billing.alice
    )
    assert_lists_exactly(own.content, alone[2:])
    assert [order["status"] for order in page.json()["results"]] == [
        "failed",
        "completed",
        "pending",
    ]


async def test_admin_lists_all_and_filters(billing: Billing) -> None:
    await place(billing, billing.alice)
    await place(billing, billing.bob)
    client, admin = billing.client, billing.admin
    everything = (await client.get("/api/v1/billing/orders", headers=admin)).json()
    assert everything["count"] == 2
    bobs = (await client.get(f"/api/v1/billing/orders?user_id={BOB_ID}", headers=admin)).json()
    assert [order["user_id"] for order in bobs["results"]] == [BOB_ID]
    pending = (await client.get("/api/v1/billing/orders?status=pending", headers=admin)).json()
    assert pending["count"] == 2
    done = (await client.get("/api/v1/billing/orders?status=completed", headers=admin)).json()
    assert done["count"] == 0


async def test_user_filtering_on_themself_or_others(billing: Billing) -> None:
    await place(billing, billing.alice)
    client = billing.client
    own = await client.get(f"/api/v1/billing/orders?user_id={ALICE_ID}", headers=billing.alice)
    assert own.status_code == 200
    assert own.json()["count"] == 1
    other = await client.get(f"/api/v1/billing/orders?user_id={BOB_ID}", headers=billing.alice)
    assert other.status_code == 403


@pytest.mark.parametrize("query", ["status=shipped", "user_id=0", "user_id=x", "page=0"])
async def test_bad_list_queries(billing: Billing, query: str) -> None:
    response = await billing.client.get(f"/api/v1/billing/orders?{query}", headers=billing.admin)
    assert response.status_code == 422
    assert error_field(response.json()) == query.split("=")[0]


def error_field(body: dict[str, object]) -> str:
    detail = body["detail"]
    assert isinstance(detail, list)
    return str(detail[0]["loc"][-1])
