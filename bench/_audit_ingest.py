"""The audit benchmark's ingestion: events published to RabbitMQ, consumed into the admin
database by the admin service's subscription (or a baseline or a ceiling), timed."""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aio_pika
from sqlalchemy import MetaData, func, select

import bandstand.admin
from _audit_data import KINDS, SEED, events
from bandstand.admin.events import SUBSCRIPTION, record_events
from bandstand.admin.models import AuditEntry
from bandstand.platform.database import Database
from bandstand.platform.messaging import (
    Message,
    Subscription,
    SubscriptionRunner,
    attach_processed_messages,
    create_broker,
    dead_letter_queue,
)
from bandstand.platform.migrations import upgrade

MIGRATIONS = Path(bandstand.admin.__file__).parent / "migrations"


async def _one_by_one(session: Any, message: Message) -> None:
    await record_events(session, [message])


async def ingest(strategy: str, amqp_url: str, database_url: str, count: int) -> dict[str, Any]:
    database = Database(database_url)
    await upgrade(database, "admin", MIGRATIONS)
    queue = f"bench.audit.{strategy}"
    batches: list[int] = []
    handled = 0

    async def counted(session: Any, messages: Any) -> None:
        nonlocal handled
        batches.append(len(messages))
        if strategy == "batched":
            await SUBSCRIPTION.handler(session, messages)
        handled += len(messages)

    if strategy in ("batched", "ceiling"):
        subscription: Any = SUBSCRIPTION.__class__(
            queue,
            SUBSCRIPTION.routing_keys,
            counted,
            batch_size=SUBSCRIPTION.batch_size,
            max_wait=SUBSCRIPTION.max_wait,
            record_processed=SUBSCRIPTION.record_processed,
        )
    else:
        # The kernel's ordinary subscription: one transaction per event, with processed ids.
        metadata = MetaData()
        attach_processed_messages(metadata)
        async with database.engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        handlers = {type_: _one_by_one for type_, _ in KINDS}
        subscription = Subscription(queue, handlers)
    broker = create_broker(amqp_url, Path(tempfile.gettempdir()))
    await broker.connect()
    try:
        await broker.declare_queue(queue, ("#",))
        messages = events(count, SEED + len(strategy))
        for start in range(0, count, 1_000):
            await broker.publish(messages[start : start + 1_000])
        runner = SubscriptionRunner(database, broker, [subscription])
        started = time.perf_counter()
        runner.start()
        try:
            while handled < count if strategy == "ceiling" else await _entries(database) < count:
                await asyncio.sleep(0.1)
            elapsed = time.perf_counter() - started
        finally:
            await runner.stop()
        # Redelivered: nothing more is recorded.
        await broker.publish(messages[:100])
        runner = SubscriptionRunner(database, broker, [subscription])
        runner.start()
        try:
            await asyncio.sleep(1.0)
            while await broker.queue_depth(queue) > 0:
                await asyncio.sleep(0.5)
            await asyncio.sleep(0.5)
        finally:
            await runner.stop()
        recorded = await _entries(database)
        await _delete_queues(amqp_url, [queue, dead_letter_queue(queue)])
    finally:
        await broker.close()
        await database.dispose()
    return {
        "strategy": strategy,
        "events": count,
        "seconds": round(elapsed, 3),
        "events_per_second": round(count / elapsed, 1),
        "recorded_after_redelivery": recorded,
        "batches": len(batches),
        "mean_batch": round(statistics.mean(batches), 1) if batches else None,
    }


async def _delete_queues(amqp_url: str, names: list[str]) -> None:
    """Every queue bound to `#` receives every event: the next run must not feed this one's."""
    connection = await aio_pika.connect(amqp_url)
    try:
        for name in names:
            channel = await connection.channel()
            with contextlib.suppress(aio_pika.exceptions.AMQPError):
                await channel.queue_delete(name)
            with contextlib.suppress(aio_pika.exceptions.AMQPError):
                await channel.close()
    finally:
        await connection.close()


def median_run(runs: list[dict[str, Any]], strategy: str) -> dict[str, Any]:
    """The run of median throughput of `strategy`, with every run's throughput beside it."""
    mine = sorted((run for run in runs if run["strategy"] == strategy), key=_rate)
    return {**mine[len(mine) // 2], "all_events_per_second": [_rate(run) for run in mine]}


def _rate(run: dict[str, Any]) -> float:
    return float(run["events_per_second"])


async def _entries(database: Database) -> int:
    async with database.session() as session:
        statement = select(func.count()).select_from(AuditEntry)
        return int((await session.execute(statement)).scalar_one())
