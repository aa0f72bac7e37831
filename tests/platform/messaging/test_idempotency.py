"""Consumers record processed message ids, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import Column, Integer, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.platform.database import Database, new_metadata
from bandstand.platform.messaging import (
    Delivery,
    Message,
    OutboxRelay,
    attach_outbox,
    attach_processed_messages,
    handle_idempotently,
    idempotent_handler,
    mark_processed,
    processed_messages_columns,
    publish_event,
)
from bandstand.platform.messaging.embedded import EmbeddedBroker
from tests.platform.messaging.helpers import event
from tests.support.waiting import eventually

metadata = new_metadata()
audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("action", String(100), nullable=False),
)
attach_outbox(metadata)
attach_processed_messages(metadata)


@pytest.fixture
async def database(database_urls: Callable[[str], str]) -> AsyncIterator[Database]:
    database = Database(database_urls("admin"))
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield database
    await database.dispose()


async def record(session: AsyncSession, message: Message) -> None:
    await session.execute(insert(audit).values(action=message.type))


async def audited(database: Database) -> int:
    async with database.session() as session:
        return int((await session.execute(select(func.count()).select_from(audit))).scalar_one())


async def test_mark_processed_is_true_once_per_consumer(database: Database) -> None:
    async with database.session() as session, session.begin():
        assert await mark_processed(session, "m-1", "admin.audit") is True
        assert await mark_processed(session, "m-1", "admin.audit") is False
        assert await mark_processed(session, "m-1", "admin.stats") is True
    async with database.session() as session, session.begin():
        assert await mark_processed(session, "m-1", "admin.audit") is False
        assert await mark_processed(session, "m-2", "admin.audit") is True


async def test_a_rolled_back_mark_does_not_count(database: Database) -> None:
    async with database.session() as session:
        assert await mark_processed(session, "m-1", "admin.audit")
        await session.rollback()
    async with database.session() as session, session.begin():
        assert await mark_processed(session, "m-1", "admin.audit")


async def test_a_redelivered_message_changes_nothing(
    database: Database, broker: EmbeddedBroker
) -> None:
    await broker.publish([event("identity.user.deleted")], queue="admin.audit")
    delivery = await broker.get("admin.audit")
    assert delivery is not None

    await handle_idempotently(database, "admin.audit", delivery, record)
    await handle_idempotently(database, "admin.audit", delivery, record)

    assert await audited(database) == 1


async def test_a_failing_handler_commits_nothing(
    database: Database, broker: EmbeddedBroker
) -> None:
    await broker.publish([event("identity.user.deleted")], queue="admin.audit")
    delivery = await broker.get("admin.audit")
    assert delivery is not None

    async def failing(session: AsyncSession, message: Message) -> None:
        await record(session, message)
        raise RuntimeError("downstream failure")

    with pytest.raises(RuntimeError):
        await handle_idempotently(database, "admin.audit", delivery, failing)
    assert await audited(database) == 0

    await handle_idempotently(database, "admin.audit", delivery, record)  # the retry
    assert await audited(database) == 1


async def test_events_written_by_a_handler_wake_the_relay(
    database: Database, broker: EmbeddedBroker
) -> None:
    woken: list[bool] = []
    database.after_commit_of("outbox", lambda: woken.append(True), operations={"insert"})
    await broker.publish([event("billing.order.placed")], queue="billing.orders")
    delivery = await broker.get("billing.orders")
    assert delivery is not None

    async def complete(session: AsyncSession, message: Message) -> None:
        await publish_event(session, "billing.order.completed", {}, source="billing")

    await handle_idempotently(database, "billing.worker", delivery, complete)

    assert woken == [True]


async def test_consuming_twice_the_same_message_handles_it_once(
    database: Database, broker: EmbeddedBroker
) -> None:
    duplicate = event("identity.user.deleted")
    await broker.publish([duplicate, duplicate], queue="admin.audit")  # at-least-once
    handle = idempotent_handler(database, "admin.audit", record)
    settled: list[int] = []

    async def counting(delivery: Delivery) -> None:
        await handle(delivery)
        settled.append(delivery.attempts)

    consumer = await broker.consume("admin.audit", counting, prefetch=2)
    try:

        async def both_handled() -> bool:
            return len(settled) == 2

        await eventually(both_handled)
    finally:
        await consumer.stop()

    assert await audited(database) == 1
    assert await broker.queue_depth("admin.audit.dlq") == 0


async def test_relay_on_this_engine(database: Database, broker: EmbeddedBroker) -> None:
    await broker.declare_queue("audit", ["identity.#"])
    async with database.session() as session, session.begin():
        for n in range(30):
            await publish_event(session, "identity.user.seen", {"n": n}, source="identity")
    other = Database(str(database.url))
    relays = [OutboxRelay(database, broker, batch_size=4), OutboxRelay(other, broker, batch_size=4)]

    async def run(relay: OutboxRelay) -> int:
        total = 0
        while published := await relay.publish_pending():
            total += published
        return total

    try:
        counts = await asyncio.gather(*(run(relay) for relay in relays))
    finally:
        await other.dispose()

    assert sum(counts) == 30
    assert await broker.queue_depth("audit") == 30


def test_processed_messages_columns() -> None:
    table = Table("processed_messages", new_metadata(), *processed_messages_columns())

    assert [column.name for column in table.primary_key] == ["message_id", "consumer"]
    assert [index.name for index in table.indexes] == ["ix_processed_messages_processed_at"]
