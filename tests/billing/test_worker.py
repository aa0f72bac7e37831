"""The worker in this process: completing, failing, idempotence, retries and dead letters.

Each test runs on SQLite with the embedded broker, and on PostgreSQL with RabbitMQ."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from bandstand.billing.events import BILLING_QUEUE, ORDER_CREATED
from bandstand.billing.models import Order
from bandstand.billing.worker import BillingWorker
from bandstand.platform.messaging import Message
from bandstand.platform.messaging.outbox import count_pending
from tests.billing.conftest import ALICE_ID, ORDER, Billing
from tests.support.waiting import eventually


@pytest.fixture
def billing_broker_url(request: pytest.FixtureRequest, engine: str) -> str | None:
    """SQLite with the embedded broker, and PostgreSQL with RabbitMQ."""
    if engine == "sqlite":
        return None
    url: str = request.getfixturevalue("rabbitmq_url")
    return url


async def place(billing: Billing, **fields: object) -> str:
    response = await billing.client.post(
        "/api/v1/billing/orders", json={**ORDER, **fields}, headers=billing.alice
    )
    assert response.status_code == 202, response.text
    order_id: str = response.json()["id"]
    return order_id


async def finished(billing: Billing, order_id: str) -> dict[str, Any] | None:
    response = await billing.client.get(f"/api/v1/billing/orders/{order_id}", headers=billing.admin)
    body: dict[str, Any] = response.json()
    return body if body["status"] != "pending" else None


async def test_order_is_completed_with_tax_lines(billing: Billing, worker: BillingWorker) -> None:
    order_id = await place(billing, total_amount="99.97")
    body = await eventually(lambda: finished(billing, order_id))
    assert body["status"] == "completed"
    assert body["net_amount"] == "83.31"
    assert body["tax_amount"] == "16.66"
    assert Decimal(body["tax_rate"]) == Decimal("0.2")
    assert body["processed_at"] is not None
    assert body["failure_reason"] is None
    [completed] = await billing.outbox("billing.order.completed")
    assert completed["payload"] == {
        "order_id": order_id,
        "user_id": ALICE_ID,
        "number_of_items": 3,
        "total_amount": "99.97",
        "currency": "EUR",
        "net_amount": "83.31",
        "tax_amount": "16.66",
        "processed_at": body["processed_at"].replace("+00:00", "Z"),
        "actor_id": ALICE_ID,
    }


async def test_beside_the_app_the_worker_publishes_through_the_apps_relay(
    billing: Billing, worker: BillingWorker
) -> None:
    assert worker.relay is billing.app.state.outbox_relay  # one relay per database in a process
    await place(billing)

    async def completed_and_published() -> bool:
        return bool(await billing.outbox("billing.order.completed")) and (
            await count_pending(billing.database) == 0
        )

    await eventually(completed_and_published)


async def test_order_breaking_a_rule_fails_with_the_reason(
    billing: Billing, worker: BillingWorker
) -> None:
    order_id = await place(billing, currency="JPY")
    body = await eventually(lambda: finished(billing, order_id))
    assert body["status"] == "failed"
    assert body["failure_reason"] == "currency JPY is not supported"
    assert body["net_amount"] is None
    [failed] = await billing.outbox("billing.order.failed")
    assert failed["payload"] == {
        "order_id": order_id,
        "user_id": ALICE_ID,
        "failure_reason": "currency JPY is not supported",
    }
    assert await billing.outbox("billing.order.completed") == []


async def test_message_not_matching_the_order_fails_it(
    billing: Billing, worker: BillingWorker
) -> None:
    order_id = uuid.uuid4()
    async with billing.database.session() as session, session.begin():
        session.add(
            Order(
                id=order_id,
                user_id=ALICE_ID,
                number_of_items=1,
                total_amount=Decimal("5.00"),
                currency="EUR",
                status="pending",
            )
        )
    forged = {"order_id": str(order_id), "user_id": ALICE_ID, "number_of_items": 1}
    forged |= {"total_amount": "0.01", "currency": "EUR"}
    await worker.broker.publish([Message.new(ORDER_CREATED, forged, "test")], queue=BILLING_QUEUE)
    body = await eventually(lambda: finished(billing, str(order_id)))
    assert body["failure_reason"] == "the message does not match the stored order"


async def test_a_message_delivered_again_changes_nothing(
    billing: Billing, worker: BillingWorker
) -> None:
    order_id = await place(billing)
    first = await eventually(lambda: finished(billing, order_id))
    [created] = await billing.outbox("billing.order.created")
    again = Message.new(ORDER_CREATED, created["payload"], "billing")
    await worker.broker.publish([again, again], queue=BILLING_QUEUE)
    await eventually(lambda: queue_empty(worker))
    assert await finished(billing, order_id) == first
    assert len(await billing.outbox("billing.order.completed")) == 1


async def queue_empty(worker: BillingWorker) -> bool:
    return await worker.broker.queue_depth(BILLING_QUEUE) == 0


async def test_poison_message_is_dead_lettered_and_redriven_once_fixed(
    billing: Billing, worker: BillingWorker
) -> None:
    missing = uuid.uuid4()
    payload = {"order_id": str(missing), "user_id": ALICE_ID, "number_of_items": 2}
    payload |= {"total_amount": "10.00", "currency": "EUR"}
    poison = Message.new(ORDER_CREATED, payload, "billing")
    await worker.broker.publish([poison], queue=BILLING_QUEUE)

    async def dead() -> dict[str, Any] | None:
        response = await billing.client.get("/api/v1/billing/dead-letters", headers=billing.admin)
        body: dict[str, Any] = response.json()
        return body if body["count"] else None

    listed = await eventually(dead)
    [letter] = listed["results"]
    assert letter["message_id"] == poison.id
    assert letter["order_id"] == str(missing)
    assert listed["queue"] == "billing_queue.dlq"
    # Looking leaves it there.
    assert (await dead()) is not None

    async with billing.database.session() as session, session.begin():
        session.add(
            Order(
                id=missing,
                user_id=ALICE_ID,
                number_of_items=2,
                total_amount=Decimal("10.00"),
                currency="EUR",
                status="pending",
            )
        )
    response = await billing.client.post(
        "/api/v1/billing/dead-letters/redrive", json={}, headers=billing.admin
    )
    assert response.status_code == 200
    assert response.json() == {"redriven": 1, "message_ids": [poison.id]}
    body = await eventually(lambda: finished(billing, str(missing)))
    assert body["status"] == "completed"
    assert await dead() is None


async def test_redrive_by_message_id_leaves_the_others(
    billing: Billing, worker: BillingWorker
) -> None:
    messages = [
        Message.new(ORDER_CREATED, {"order_id": "not-a-uuid", "n": n}, "billing") for n in (1, 2)
    ]
    await worker.broker.publish(messages, queue=BILLING_QUEUE)
    # A message that can name no order goes to the dead letters at once.
    await eventually(lambda: dead_count(worker, 2))
    response = await billing.client.post(
        "/api/v1/billing/dead-letters/redrive",
        json={"message_ids": [messages[0].id]},
        headers=billing.admin,
    )
    assert response.json()["message_ids"] == [messages[0].id]
    await eventually(lambda: dead_count(worker, 2))
    listed = await billing.client.get("/api/v1/billing/dead-letters", headers=billing.admin)
    assert {letter["payload"]["n"] for letter in listed.json()["results"]} == {1, 2}


async def dead_count(worker: BillingWorker, expected: int) -> bool:
    return await worker.broker.queue_depth("billing_queue.dlq") == expected


async def test_the_orders_count_follows_the_workers_commits(
    billing: Billing, worker: BillingWorker
) -> None:
    """The worker's commits move billing's write generation, as the app's do: the kept count of
    completed orders is not answered from before the order was completed."""
    completed = "/api/v1/billing/orders?status=completed"
    order_id = await place(billing)
    # Counted (and kept) while the order is most likely still pending.
    before = await billing.client.get(completed, headers=billing.admin)
    assert before.json()["count"] in (0, 1)
    await eventually(lambda: finished(billing, order_id))
    after = await billing.client.get(completed, headers=billing.admin)
    assert after.json()["count"] == 1
