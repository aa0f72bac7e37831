"""The outbox written in the business transaction, and the relay that publishes it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, event, insert, select

from bandstand.platform.database import Database, new_metadata
from bandstand.platform.messaging import (
    Broker,
    BrokerUnavailable,
    Consumer,
    Delivery,
    Message,
    OutboxRelay,
    attach_outbox,
    outbox_columns,
    publish_event,
)
from bandstand.platform.messaging.broker import Handler
from bandstand.platform.messaging.embedded import EmbeddedBroker
from tests.support.waiting import eventually


def service_metadata() -> tuple[MetaData, Table, Table]:
    metadata = new_metadata()
    users = Table(
        "users",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("email", String(100), nullable=False),
    )
    return metadata, users, attach_outbox(metadata)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/svc.sqlite3")
    metadata, _, _ = service_metadata()
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield database
    await database.dispose()


async def register(database: Database, email: str) -> Message:
    """A use case: insert a user and its event in one transaction, as a request would."""
    _, users, _ = service_metadata()
    async with database.session() as session, session.begin():
        result = await session.execute(insert(users).values(email=email).returning(users.c.id))
        user_id = result.scalar_one()
        message = await publish_event(
            session, "identity.user.registered", {"user_id": user_id}, source="identity"
        )
    return message


async def outbox_rows(database: Database) -> list[tuple[str, datetime | None, int]]:
    _, _, outbox = service_metadata()
    async with database.session() as session:
        result = await session.execute(
            select(outbox.c.message_id, outbox.c.published_at, outbox.c.attempts).order_by(
                outbox.c.id
            )
        )
        return [(row.message_id, row.published_at, row.attempts) for row in result]


async def test_events_are_published_and_marked(database: Database, broker: EmbeddedBroker) -> None:
    await broker.declare_queue("audit", ["identity.#"])
    first = await register(database, "a@example.com")
    second = await register(database, "b@example.com")
    relay = OutboxRelay(database, broker)

    assert await relay.publish_pending() == 2
    assert await relay.publish_pending() == 0

    received = [await broker.get("audit"), await broker.get("audit")]
    assert [delivery.message for delivery in received if delivery] == [first, second]
    rows = await outbox_rows(database)
    assert [row[0] for row in rows] == [first.id, second.id]
    assert all(row[1] is not None and row[2] == 1 for row in rows)


async def test_a_rolled_back_transaction_publishes_nothing(database: Database) -> None:
    _, users, _ = service_metadata()

    async def failing_use_case() -> None:
        async with database.session() as session, session.begin():
            await session.execute(insert(users).values(email="x@example.com"))
            await publish_event(session, "identity.user.registered", {}, source="identity")
            raise RuntimeError("the use case failed")

    with pytest.raises(RuntimeError):
        await failing_use_case()

    assert await outbox_rows(database) == []


async def test_work_items_go_to_their_queue(database: Database, broker: EmbeddedBroker) -> None:
    async with database.session() as session, session.begin():
        order = await publish_event(
            session, "billing.order.placed", {"order_id": 1}, source="billing", queue="orders"
        )
        event = await publish_event(session, "billing.order.placed", {}, source="billing")
    await broker.declare_queue("audit", ["billing.#"])

    assert await OutboxRelay(database, broker).publish_pending() == 2

    work = await broker.get("orders")
    audited = await broker.get("audit")
    assert work is not None
    assert work.message == order
    assert audited is not None
    assert audited.message == event
    assert await broker.get("audit") is None


class FlakyBroker(Broker):
    """Delegates to a real broker, but is "down" while `down` is set."""

    def __init__(self, inner: Broker) -> None:
        self.inner = inner
        self.down = False
        self.calls = 0

    async def connect(self) -> None:
        await self.inner.connect()

    async def close(self) -> None:
        await self.inner.close()

    async def declare_queue(
        self, name: str, routing_keys: Sequence[str] = (), *, dead_letter: bool = True
    ) -> None:
        await self.inner.declare_queue(name, routing_keys, dead_letter=dead_letter)

    async def publish(self, messages: Sequence[Message], *, queue: str | None = None) -> None:
        self.calls += 1
        if self.down:
            raise BrokerUnavailable("down for the test")
        await self.inner.publish(messages, queue=queue)

    async def publish_raw(self, queue: str, body: bytes, *, message_id: str) -> None:
        await self.inner.publish_raw(queue, body, message_id=message_id)

    async def consume(self, queue: str, handler: Handler, *, prefetch: int = 10) -> Consumer:
        return await self.inner.consume(queue, handler, prefetch=prefetch)

    async def get(self, queue: str) -> Delivery | None:
        return await self.inner.get(queue)

    async def queue_depth(self, name: str) -> int:
        return await self.inner.queue_depth(name)

    async def purge(self, name: str) -> None:
        await self.inner.purge(name)

    async def ping(self) -> None:
        if self.down:
            raise BrokerUnavailable("down for the test")


async def test_rows_wait_for_the_broker_to_come_back(
    database: Database, broker: EmbeddedBroker
) -> None:
    await broker.declare_queue("audit", ["identity.#"])
    flaky = FlakyBroker(broker)
    flaky.down = True
    message = await register(database, "a@example.com")
    relay = OutboxRelay(database, flaky)

    with pytest.raises(BrokerUnavailable):
        await relay.publish_pending()
    with pytest.raises(BrokerUnavailable):
        await relay.publish_pending()

    [(_, published_at, attempts)] = await outbox_rows(database)
    assert published_at is None
    assert attempts == 2
    flaky.down = False
    assert await relay.publish_pending() == 1
    delivery = await broker.get("audit")
    assert delivery is not None
    assert delivery.message == message


async def test_background_relay_retries_until_the_broker_is_back(
    database: Database, broker: EmbeddedBroker, caplog: pytest.LogCaptureFixture
) -> None:
    await broker.declare_queue("audit", ["identity.#"])
    flaky = FlakyBroker(broker)
    flaky.down = True
    relay = OutboxRelay(database, flaky, poll_seconds=0.05, retry_initial=0.02, retry_max=0.05)
    relay.start()
    try:
        await register(database, "a@example.com")

        async def tried_twice() -> bool:
            return flaky.calls >= 2

        await eventually(tried_twice)
        assert await broker.queue_depth("audit") == 0
        assert "broker unavailable" in caplog.text
        flaky.down = False

        async def delivered() -> bool:
            return await broker.queue_depth("audit") == 1

        await eventually(delivered)
    finally:
        await relay.stop()
    [(_, published_at, _)] = await outbox_rows(database)
    assert published_at is not None


async def test_a_commit_wakes_the_relay(database: Database, broker: EmbeddedBroker) -> None:
    await broker.declare_queue("audit", ["identity.#"])
    relay = OutboxRelay(database, broker, poll_seconds=60)
    relay.start()
    try:
        await relay.idle()  # the relay found nothing and sleeps for a minute
        await register(database, "a@example.com")

        async def delivered() -> bool:
            return await broker.queue_depth("audit") == 1

        await eventually(delivered, timeout=2)
    finally:
        await relay.stop()


async def test_idle_polls_only_read_and_still_find_rows_no_commit_announced(
    database: Database, broker: EmbeddedBroker
) -> None:
    await broker.declare_queue("audit", ["identity.#"])
    statements: list[str] = []

    def seen(*args: object) -> None:
        statements.append(str(args[2]).lstrip().split()[0].upper())

    event.listen(database.engine.sync_engine, "before_cursor_execute", seen)
    relay = OutboxRelay(database, broker, poll_seconds=0.02)
    elsewhere = Database(database.url)  # another process's commits wake no relay here
    relay.start()
    try:
        await relay.idle()
        statements.clear()
        await asyncio.sleep(0.2)
        assert statements.count("SELECT") >= 3
        assert "UPDATE" not in statements

        await register(elsewhere, "a@example.com")

        async def delivered() -> bool:
            return await broker.queue_depth("audit") == 1

        await eventually(delivered, timeout=2)
        [(_, published_at, attempts)] = await outbox_rows(database)
        assert published_at is not None
        assert attempts == 1
    finally:
        await relay.stop()
        await elsewhere.dispose()
        event.remove(database.engine.sync_engine, "before_cursor_execute", seen)


async def test_a_relay_watching_another_database_of_the_same_one_is_woken_by_its_commits(
    database: Database, broker: EmbeddedBroker
) -> None:
    """A worker beside its app commits through a `Database` of its own and uses the app's relay."""
    await broker.declare_queue("audit", ["identity.#"])
    relay = OutboxRelay(database, broker, poll_seconds=60)
    beside = Database(database.url)
    relay.watch(beside)
    relay.start()
    try:
        await relay.idle()  # the relay found nothing and sleeps for a minute
        await register(beside, "a@example.com")

        async def delivered() -> bool:
            return await broker.queue_depth("audit") == 1

        await eventually(delivered, timeout=2)
    finally:
        await relay.stop()
        await beside.dispose()


async def test_a_lingering_relay_publishes_the_commits_of_its_linger_together(
    database: Database, broker: EmbeddedBroker
) -> None:
    await broker.declare_queue("audit", ["identity.#"])
    counting = FlakyBroker(broker)
    relay = OutboxRelay(database, counting, poll_seconds=60, linger=0.2)
    relay.start()
    try:
        await relay.idle()  # the relay found nothing and sleeps for a minute
        calls_before = counting.calls
        for n in range(3):
            await register(database, f"user{n}@example.com")

        async def delivered() -> bool:
            return await broker.queue_depth("audit") == 3

        await eventually(delivered, timeout=3)
        assert counting.calls - calls_before == 1
    finally:
        await relay.stop()


async def test_large_backlogs_go_out_in_batches(database: Database, broker: EmbeddedBroker) -> None:
    await broker.declare_queue("audit", ["identity.#"])
    async with database.session() as session, session.begin():
        for n in range(25):
            await publish_event(session, "identity.user.seen", {"n": n}, source="identity")
    relay = OutboxRelay(database, broker, batch_size=10)

    assert [await relay.publish_pending() for _ in range(4)] == [10, 10, 5, 0]

    received = []
    while (delivery := await broker.get("audit")) is not None:
        received.append(delivery.message.payload["n"])
        await delivery.ack()
    assert received == list(range(25))


async def test_two_relays_on_one_database_publish_each_row_once(
    tmp_path: Path, database: Database, broker: EmbeddedBroker
) -> None:
    await broker.declare_queue("audit", ["identity.#"])
    async with database.session() as session, session.begin():
        for n in range(40):
            await publish_event(session, "identity.user.seen", {"n": n}, source="identity")
    other = Database(str(database.url))
    relays = [OutboxRelay(database, broker, batch_size=7), OutboxRelay(other, broker, batch_size=7)]

    async def run(relay: OutboxRelay) -> int:
        total = 0
        while published := await relay.publish_pending():
            total += published
        return total

    try:
        counts = await asyncio.gather(*(run(relay) for relay in relays))
    finally:
        await other.dispose()

    assert sum(counts) == 40
    assert await broker.queue_depth("audit") == 40


async def test_stop_is_quick_and_idempotent(database: Database, broker: EmbeddedBroker) -> None:
    relay = OutboxRelay(database, broker, poll_seconds=60)
    await relay.stop()
    relay.start()
    await asyncio.sleep(0.02)

    async with asyncio.timeout(1):
        await relay.stop()
        await relay.stop()


def test_outbox_columns_are_fresh_for_each_table() -> None:
    first, second = outbox_columns(), outbox_columns()
    assert {column.name for column in first} == {
        "id",
        "message_id",
        "routing_key",
        "queue",
        "body",
        "created_at",
        "published_at",
        "attempts",
    }
    assert all(a is not b for a, b in zip(first, second, strict=True))
    table = Table("outbox", new_metadata(), *first)
    assert table.c.message_id.unique
    assert [index.name for index in table.indexes] == ["ix_outbox_published_at"]
