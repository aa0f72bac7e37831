"""Fault scenarios 1 and 2 with real `bandstand worker billing` processes, on RabbitMQ with
PostgreSQL and on the embedded broker with SQLite.

1. The worker is stopped: 100 orders get 100 times 202 and wait as 100 messages in billing_queue;
   the worker starts and completes all 100.
2. The worker is killed (SIGKILL) in the middle of 10,000 orders and started again: exactly
   10,000 are completed, none twice (one completed event each), none lost.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from bandstand.billing.events import BILLING_QUEUE
from bandstand.platform.messaging import Broker
from bandstand.platform.messaging.outbox import count_pending
from tests.billing.conftest import Billing
from tests.billing.faults import (
    all_completed,
    completed_events,
    place_orders,
    post_orders,
    statuses,
    wait_for,
    worker_process,
)


@pytest.fixture(
    params=[
        "embedded",
        pytest.param("rabbitmq", marks=[pytest.mark.postgres, pytest.mark.rabbitmq]),
    ]
)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def engine(backend: str) -> str:
    return "sqlite" if backend == "embedded" else "postgres"


@pytest.fixture
def billing_broker_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "embedded":
        # A message of a killed worker comes back after 3 s instead of the default 60.
        return f"embedded://{tmp_path / 'broker.sqlite3'}?visibility_timeout=3"
    url: str = request.getfixturevalue("rabbitmq_url")
    return url


def broker_of(billing: Billing) -> Broker:
    broker: Broker = billing.app.state.runtime.broker
    return broker


async def test_orders_wait_in_the_queue_while_the_worker_is_stopped(
    billing: Billing, tmp_path: Path
) -> None:
    accepted = await post_orders(billing, 100)
    assert len(set(accepted)) == 100

    async def published() -> bool:
        return await count_pending(billing.database) == 0

    await wait_for(published, 30, "outbox published")
    assert await broker_of(billing).queue_depth(BILLING_QUEUE) == 100
    assert (await statuses(billing.database))["pending"] == 100

    settings = billing.app.state.runtime.settings
    with worker_process(settings, tmp_path) as worker:
        await wait_for(lambda: all_completed(billing.database, 100), 60, "100 completed", worker)
        assert await asyncio.to_thread(worker.stop, signal.SIGTERM, 30) == 0
    assert set(await completed_events(billing.database)) == set(accepted)
    assert await broker_of(billing).queue_depth(BILLING_QUEUE) == 0


async def test_killing_the_worker_mid_stream_loses_and_repeats_nothing(
    billing: Billing, tmp_path: Path
) -> None:
    total = 10_000
    settings = billing.app.state.runtime.settings
    first = worker_process(settings, tmp_path, name="first")
    with first:
        await place_orders(billing.database, total)

        async def some_done() -> bool:
            return (await statuses(billing.database))["completed"] >= total // 4

        await wait_for(some_done, 120, "a quarter completed", first)
        first.kill()  # SIGKILL: no chance to finish or ack anything
    left = await statuses(billing.database)
    assert left["pending"] > 0, left

    with worker_process(settings, tmp_path, name="second") as second:
        await wait_for(lambda: all_completed(billing.database, total), 180, "all completed", second)
        assert await asyncio.to_thread(second.stop, signal.SIGTERM, 30) == 0
    events = await completed_events(billing.database)
    assert len(events) == total
    assert set(events.values()) == {1}
    assert await statuses(billing.database) == {"completed": total}
