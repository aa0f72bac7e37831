"""Orders placed together are stored together: one transaction for many 202s, each order still
with its own row and message, the orders of different callers kept apart."""

from __future__ import annotations

import asyncio
from collections.abc import Collection

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.billing.intake import OrderIntake
from bandstand.billing.models import Order
from bandstand.billing.repository import OrderRepository
from tests.billing.conftest import ADMIN_ID, ALICE_ID, BOB_ID, LEGACY_ORDER, ORDER, Billing
from tests.support.statements import recorded_statements


async def test_concurrent_orders_share_transactions_and_each_gets_its_message(
    billing: Billing,
) -> None:
    headers = [billing.alice, billing.bob] * 20
    with recorded_statements(billing.database) as statements:
        responses = await asyncio.gather(
            *(billing.client.post("/api/v1/billing/orders", json=ORDER, headers=h) for h in headers)
        )
    assert [r.status_code for r in responses] == [202] * 40
    order_inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO ORDERS")]
    assert 1 <= len(order_inserts) < 40
    orders = {str(order.id): order for order in await billing.orders()}
    assert sorted(orders) == sorted(r.json()["id"] for r in responses)
    for response in responses:
        assert response.headers["Location"].endswith(response.json()["id"])
    assert sorted(o.user_id for o in orders.values()) == sorted([ALICE_ID, BOB_ID] * 20)
    messages = await billing.outbox("billing.order.created")
    assert sorted(m["payload"]["order_id"] for m in messages) == sorted(orders)
    for message in messages:
        order = orders[message["payload"]["order_id"]]
        assert message["payload"]["user_id"] == order.user_id
        assert message["payload"]["actor_id"] == order.created_by == order.user_id


async def test_an_admin_order_for_someone_else_keeps_its_actor_in_a_shared_batch(
    billing: Billing,
) -> None:
    responses = await asyncio.gather(
        billing.client.post(
            "/api/v1/billing/orders", json={**ORDER, "user_id": BOB_ID}, headers=billing.admin
        ),
        billing.client.post("/api/billing", json=LEGACY_ORDER, headers=billing.alice),
    )
    assert [r.status_code for r in responses] == [202, 202]
    actors = {
        m["payload"]["user_id"]: m["payload"]["actor_id"]
        for m in await billing.outbox("billing.order.created")
    }
    assert actors == {BOB_ID: ADMIN_ID, ALICE_ID: ALICE_ID}


class UnreachableRepository(OrderRepository):
    async def add_many(self, session: AsyncSession, orders: Collection[Order]) -> None:
        raise OperationalError("INSERT", {}, ConnectionRefusedError("database down"))


async def test_database_down_during_a_batch_is_503_for_each_order_and_stores_none(
    billing: Billing,
) -> None:
    billing.app.state.order_intake = OrderIntake(billing.database, UnreachableRepository())
    responses = await asyncio.gather(
        *(
            billing.client.post("/api/v1/billing/orders", json=ORDER, headers=billing.alice)
            for _ in range(5)
        )
    )
    assert [r.status_code for r in responses] == [503] * 5
    assert all("unavailable" in r.json()["detail"].lower() for r in responses)
    assert await billing.order_count() == 0
    assert await billing.outbox_rows() == 0
