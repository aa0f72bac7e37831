"""Fault scenarios 3 to 5 with a real `bandstand worker billing` on RabbitMQ and PostgreSQL.

3. RabbitMQ stops during a stream of orders and starts again: every order that got a 202 ends
   completed (the outbox keeps them while the broker is away).
4. The billing database stops while the worker processes: nothing is acked or lost, and the
   worker resumes by itself when the database is back (and a worker started while its database
   is down waits for it).
5. A poison message ends in billing_queue.dlq after 5 attempts and, once the cause is fixed, is
   re-driven and processed.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bandstand.billing.events import BILLING_QUEUE, ORDER_CREATED
from bandstand.billing.models import Order
from bandstand.platform.messaging import Broker, Message
from tests.billing.conftest import ALICE_ID, Billing
from tests.billing.faults import (
    all_completed,
    completed_events,
    place_orders,
    post_orders,
    statuses,
    wait_for,
    worker_process,
)
from tests.support.servers import PostgresServer, RabbitMQServer

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]


@pytest.fixture
def engine() -> str:
    return "postgres"


@pytest.fixture
def billing_broker_url(rabbitmq_url: str) -> str:
    return rabbitmq_url


def broker_of(billing: Billing) -> Broker:
    broker: Broker = billing.app.state.runtime.broker
    return broker


async def test_rabbitmq_stopping_during_a_stream_loses_no_accepted_order(
    billing: Billing, rabbitmq_server: RabbitMQServer, tmp_path: Path
) -> None:
    settings = billing.app.state.runtime.settings
    with worker_process(settings, tmp_path) as worker:
        accepted = await post_orders(billing, 100)
        await asyncio.to_thread(rabbitmq_server.stop_app)
        try:
            # The broker is down: orders are still accepted, and wait in the outbox.
            accepted += await post_orders(billing, 100)
        finally:
            await asyncio.to_thread(rabbitmq_server.start_app)
        accepted += await post_orders(billing, 100)
        await wait_for(lambda: all_completed(billing.database, 300), 120, "all completed", worker)
        assert await asyncio.to_thread(worker.stop, signal.SIGTERM, 30) == 0
    events = await completed_events(billing.database)
    assert set(events) == set(accepted)
    assert set(events.values()) == {1}


async def test_database_stopping_during_processing_loses_nothing(
    billing: Billing, postgres_server: PostgresServer, tmp_path: Path
) -> None:
    total = 2000
    settings = billing.app.state.runtime.settings
    await place_orders(billing.database, total)
    with worker_process(settings, tmp_path) as worker:

        async def started() -> bool:
            return (await statuses(billing.database))["completed"] >= 200

        await wait_for(started, 60, "processing started", worker)
        await asyncio.to_thread(postgres_server.stop)
        try:
            await asyncio.sleep(3)
            # The worker holds its messages unacked and waits; it does not die.
            assert worker.process is not None
            assert worker.process.poll() is None
        finally:
            await asyncio.to_thread(postgres_server.start)
        await wait_for(lambda: all_completed(billing.database, total), 120, "all done", worker)
        assert await asyncio.to_thread(worker.stop, signal.SIGTERM, 30) == 0
    events = await completed_events(billing.database)
    assert len(events) == total
    assert set(events.values()) == {1}
    assert await broker_of(billing).queue_depth("billing_queue.dlq") == 0


async def test_poison_message_is_dead_lettered_then_redriven(
    billing: Billing, tmp_path: Path
) -> None:
    settings = billing.app.state.runtime.settings
    missing = uuid.uuid4()
    payload: dict[str, Any] = {"order_id": str(missing), "user_id": ALICE_ID}
    payload |= {"number_of_items": 1, "total_amount": "10.00", "currency": "EUR"}
    poison = Message.new(ORDER_CREATED, payload, "billing")
    with worker_process(settings, tmp_path) as worker:
        await broker_of(billing).publish([poison], queue=BILLING_QUEUE)

        async def dead() -> bool:
            return await broker_of(billing).queue_depth("billing_queue.dlq") == 1

        # Retries after 0.1, 0.2, 0.4 and 0.8 s, then the dead-letter queue.
        await wait_for(dead, 60, "dead-lettered", worker)
        assert worker.log().count(f"order {missing} does not exist") == 5
        assert await broker_of(billing).queue_depth(BILLING_QUEUE) == 0

        async with billing.database.session() as session, session.begin():
            session.add(
                Order(
                    id=missing,
                    user_id=ALICE_ID,
                    number_of_items=1,
                    total_amount=Decimal("10.00"),
                    currency="EUR",
                    status="pending",
                )
            )
        response = await billing.client.post(
            "/api/v1/billing/dead-letters/redrive", headers=billing.admin
        )
        assert response.json()["redriven"] == 1
        await wait_for(lambda: all_completed(billing.database, 1), 30, "re-driven", worker)
        assert await asyncio.to_thread(worker.stop, signal.SIGTERM, 30) == 0
    assert list(await completed_events(billing.database)) == [str(missing)]


async def test_worker_started_before_its_database_waits_for_it(
    billing: Billing, postgres_server: PostgresServer, tmp_path: Path
) -> None:
    settings = billing.app.state.runtime.settings
    worker = worker_process(settings, tmp_path)
    try:
        await asyncio.to_thread(postgres_server.stop)
        try:
            worker.start()

            async def waiting_for_the_database() -> bool:
                return "database not ready" in worker.log()

            # It tries, finds the database down, and waits alive instead of exiting.
            await wait_for(waiting_for_the_database, 60, "the worker waiting", worker)
            assert worker.process is not None
            assert worker.process.poll() is None, worker.log()[-4000:]
        finally:
            await asyncio.to_thread(postgres_server.start)
        accepted = await post_orders(billing, 20)
        await wait_for(lambda: all_completed(billing.database, 20), 60, "completed", worker)
        assert await asyncio.to_thread(worker.stop, signal.SIGTERM, 30) == 0
    finally:
        worker.kill()
    assert set(await completed_events(billing.database)) == set(accepted)
    assert "database not ready" in worker.log()
