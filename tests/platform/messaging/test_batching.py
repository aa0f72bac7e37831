"""Batch subscriptions: many messages per transaction, still once each, and one poison message
retried and dead-lettered alone while the rest of its batch is handled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.platform.after_commit import after_commit
from bandstand.platform.database import Database, new_metadata
from bandstand.platform.messaging import (
    BatchSubscription,
    Message,
    SubscriptionRunner,
    attach_processed_messages,
    dead_letter_queue,
)
from bandstand.platform.messaging.embedded import EmbeddedBroker
from tests.platform.messaging.helpers import event
from tests.support.waiting import eventually

metadata = new_metadata()
seen = Table(
    "seen",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("message_id", String(36), nullable=False),
)
attach_processed_messages(metadata)
QUEUE = "sample.everything"


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'service.sqlite3'}")
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield database
    await database.dispose()


class Recorder:
    def __init__(self) -> None:
        self.batches: list[int] = []

    async def __call__(self, session: AsyncSession, messages: Sequence[Message]) -> None:
        self.batches.append(len(messages))
        if any(message.type == "poison.pill.swallowed" for message in messages):
            raise ValueError("poison")
        await session.execute(insert(seen), [{"message_id": m.id} for m in messages])


async def seen_ids(database: Database) -> list[str]:
    async with database.session() as session:
        return sorted((await session.execute(select(seen.c.message_id))).scalars())


async def processed(database: Database) -> int:
    table = metadata.tables["processed_messages"]
    async with database.session() as session:
        return int((await session.execute(select(func.count()).select_from(table))).scalar_one())


async def test_messages_are_handled_in_batches_once_each(
    database: Database, broker: EmbeddedBroker
) -> None:
    recorder = Recorder()
    subscription = BatchSubscription(QUEUE, ("#",), recorder, batch_size=50, max_wait=0.2)
    runner = SubscriptionRunner(database, broker, [subscription])
    runner.start()
    try:
        async with asyncio.timeout(5):
            await runner.wait_subscribed()
        messages = [event("sample.thing.happened", n=n) for n in range(120)]
        await broker.publish(messages)
        await broker.publish(messages[:10])  # delivered again: same ids
        await eventually(lambda: _processed_is(database, 120))
        await eventually(lambda: _drained(broker))
        await broker.publish(messages[-5:])
        await eventually(lambda: _drained(broker))
        assert await seen_ids(database) == sorted(m.id for m in messages)
        assert await processed(database) == 120
        # Fewer transactions than messages.
        assert len(recorder.batches) < 120
        assert max(recorder.batches) > 1
    finally:
        await runner.stop()


async def test_a_poison_message_fails_alone(database: Database, broker: EmbeddedBroker) -> None:
    recorder = Recorder()
    subscription = BatchSubscription(QUEUE, ("#",), recorder, batch_size=10, max_wait=0.2)
    runner = SubscriptionRunner(database, broker, [subscription])
    runner.start()
    try:
        async with asyncio.timeout(5):
            await runner.wait_subscribed()
        good = [event("sample.thing.happened", n=n) for n in range(5)]
        poison = event("poison.pill.swallowed")
        await broker.publish([*good[:2], poison, *good[2:]])
        await eventually(lambda: _dead_lettered(broker))
        await eventually(lambda: _drained(broker))
        assert await seen_ids(database) == sorted(m.id for m in good)
        dead = await broker.get(dead_letter_queue(QUEUE))
        assert dead is not None
        assert dead.message.id == poison.id
    finally:
        await runner.stop()


async def _processed_is(database: Database, expected: int) -> bool:
    return await processed(database) == expected


async def _drained(broker: EmbeddedBroker) -> bool:
    return await broker.queue_depth(QUEUE) == 0


async def _dead_lettered(broker: EmbeddedBroker) -> bool:
    return await broker.queue_depth(dead_letter_queue(QUEUE)) == 1


async def test_a_batch_handlers_after_commit_work_runs_once_its_batch_commits(
    database: Database, broker: EmbeddedBroker
) -> None:
    committed: list[int] = []
    recorder = Recorder()

    async def record_then_note(session: AsyncSession, messages: Sequence[Message]) -> None:
        await recorder(session, messages)

        async def note() -> None:
            committed.append(len(await seen_ids(database)))

        after_commit(session, note)

    subscription = BatchSubscription(QUEUE, ("#",), record_then_note, batch_size=10, max_wait=0.1)
    runner = SubscriptionRunner(database, broker, [subscription])
    runner.start()
    try:
        async with asyncio.timeout(5):
            await runner.wait_subscribed()
        await broker.publish([event("sample.thing.happened", n=n) for n in range(5)])

        async def all_committed() -> bool:
            return bool(committed) and committed[-1] == 5

        await eventually(all_committed)
        # Once per batch, each after its batch's rows were committed.
        assert len(committed) == len(recorder.batches)
        assert committed == sorted(committed)
    finally:
        await runner.stop()


def test_a_batch_holds_at_least_one_message() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        BatchSubscription(QUEUE, ("#",), Recorder(), batch_size=0)
