"""Subscriptions: a service's queue, bound to the events it handles, consumed idempotently."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.platform.database import Database, new_metadata
from bandstand.platform.messaging import (
    Message,
    Subscription,
    SubscriptionRunner,
    attach_processed_messages,
)
from bandstand.platform.messaging.embedded import EmbeddedBroker
from tests.platform.messaging.helpers import FAST_RETRY, event
from tests.support.waiting import eventually

metadata = new_metadata()
erased = Table(
    "erased",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, nullable=False),
)
attach_processed_messages(metadata)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'service.sqlite3'}")
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield database
    await database.dispose()


async def erase(session: AsyncSession, message: Message) -> None:
    await session.execute(insert(erased).values(user_id=message.payload["user_id"]))


SUBSCRIPTION = Subscription("sample.identity-events", {"identity.user.deleted": erase})


async def erased_count(database: Database) -> int:
    async with database.session() as session:
        return int((await session.execute(select(func.count()).select_from(erased))).scalar_one())


async def test_handles_each_message_once_and_ignores_other_types(
    database: Database, broker: EmbeddedBroker
) -> None:
    runner = SubscriptionRunner(database, broker, [SUBSCRIPTION])
    runner.start()
    try:
        async with asyncio.timeout(5):
            await runner.wait_subscribed()
        deleted = event("identity.user.deleted", user_id=7)
        await broker.publish([deleted, deleted])  # a redelivery: same message id
        await broker.publish([event("identity.user.registered", user_id=8)])
        await eventually(lambda: _drained(broker))
        assert await erased_count(database) == 1
        await broker.publish([event("identity.user.deleted", user_id=9)])
        await eventually(lambda: _counted(database, 2))
    finally:
        await runner.stop()


async def test_a_broker_down_at_start_is_retried_until_it_is_up(
    database: Database, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("the broker cannot open its file under a regular file")
    broker = EmbeddedBroker(blocker / "broker.sqlite3", retry=FAST_RETRY, poll_interval=0.02)
    runner = SubscriptionRunner(database, broker, [SUBSCRIPTION], retry_initial=0.02)
    runner.start()
    try:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await runner.wait_subscribed()
        blocker.unlink()
        async with asyncio.timeout(5):
            await runner.wait_subscribed()
        await broker.publish([event("identity.user.deleted", user_id=1)])
        await eventually(lambda: _counted(database, 1))
    finally:
        await runner.stop()
        await broker.close()


async def _drained(broker: EmbeddedBroker) -> bool:
    return await broker.queue_depth(SUBSCRIPTION.queue) == 0


async def _counted(database: Database, expected: int) -> bool:
    return await erased_count(database) == expected
