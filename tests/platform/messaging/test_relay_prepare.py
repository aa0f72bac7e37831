"""The relay's `prepare` hook (queues declared before anything is published, again after the
broker was lost), many events in one outbox statement, and the embedded broker URL's options."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bandstand.platform.database import Database
from bandstand.platform.messaging import OutboxRelay, create_broker, publish_events
from bandstand.platform.messaging.embedded import EmbeddedBroker
from tests.platform.messaging.test_outbox_relay import (
    FlakyBroker,
    outbox_rows,
    register,
    service_metadata,
)
from tests.support.waiting import eventually


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/svc.sqlite3")
    metadata, _, _ = service_metadata()
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield database
    await database.dispose()


async def test_prepare_runs_before_the_first_publication(
    database: Database,
    broker: EmbeddedBroker,
) -> None:
    calls: list[int] = []

    async def prepare() -> None:
        # Without this binding the event would reach no queue.
        await broker.declare_queue("audit", ["identity.#"])
        calls.append(1)

    message = await register(database, "a@example.com")
    relay = OutboxRelay(database, broker, prepare=prepare)
    assert await relay.publish_pending() == 1
    assert await relay.publish_pending() == 0
    assert calls == [1]
    delivery = await broker.get("audit")
    assert delivery is not None
    assert delivery.message == message


async def test_prepare_runs_again_after_the_broker_was_lost(
    database: Database,
    broker: EmbeddedBroker,
) -> None:
    flaky = FlakyBroker(broker)
    calls: list[int] = []

    async def prepare() -> None:
        await broker.declare_queue("audit", ["identity.#"])
        calls.append(1)

    relay = OutboxRelay(
        database, flaky, prepare=prepare, poll_seconds=0.05, retry_initial=0.02, retry_max=0.05
    )
    flaky.down = True
    await register(database, "a@example.com")
    relay.start()
    try:

        async def failed_twice() -> bool:
            return flaky.calls >= 2

        await eventually(failed_twice)
        flaky.down = False
        await register(database, "b@example.com")

        async def published() -> bool:
            rows = await outbox_rows(database)
            return len(rows) == 2 and all(at is not None for _, at, _ in rows)

        await eventually(published)
    finally:
        await relay.stop()
    # Once at the start, and once after each failed attempt before the broker came back.
    assert len(calls) >= 2
    assert await broker.queue_depth("audit") == 2


async def test_publish_events_writes_many_in_one_go(
    database: Database,
    broker: EmbeddedBroker,
) -> None:
    await broker.declare_queue("audit", ["billing.#"])
    async with database.session() as session, session.begin():
        messages = await publish_events(
            session, [("billing.order.created", {"n": n}) for n in range(3)], source="billing"
        )
    assert await OutboxRelay(database, broker).publish_pending() == 3
    received = [await broker.get("audit") for _ in messages]
    assert [d.message for d in received if d is not None] == messages


def test_embedded_broker_url_options(tmp_path: Path) -> None:
    broker = create_broker(f"embedded://{tmp_path}/b.sqlite3?visibility_timeout=3", tmp_path)
    assert isinstance(broker, EmbeddedBroker)
    assert broker.visibility_timeout == 3
    assert broker.path == tmp_path / "b.sqlite3"
    with pytest.raises(ValueError, match="unknown embedded broker options"):
        create_broker("embedded://?speed=fast", tmp_path)
