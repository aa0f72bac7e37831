"""The outbox relay: publishes what services wrote to their outbox, at least once, in order."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.platform.bulk import one_of
from bandstand.platform.database import Database
from bandstand.platform.messaging.broker import Broker, BrokerUnavailable
from bandstand.platform.messaging.message import Message
from bandstand.platform.messaging.outbox import outbox_table

logger = logging.getLogger(__name__)

_ANY_PENDING = select(outbox_table.c.id).where(outbox_table.c.published_at.is_(None)).limit(1)


class OutboxRelay:
    """Publishes a database's outbox rows through a broker, with publisher confirms.

    Rows are claimed in id order (with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so replicas share
    the work; on SQLite the claim takes the write lock), published, then marked published in the
    same transaction. A crash between publishing and committing publishes the rows again: consumers
    are idempotent. It polls, and looks at once when a transaction of its database that wrote to
    the outbox commits (`Database.after_commit_of`).

    `prepare` (e.g. declaring the queues bound to the events published) runs before the first
    publication and again after every failure, so a broker that was down or lost its topology has
    it back before any message is routed.

    Published rows stay for the service's retention job (`platform.retention`), which prunes them
    once across replicas after `retention_outbox_days`.
    """

    def __init__(
        self,
        database: Database,
        broker: Broker,
        *,
        poll_seconds: float = 1.0,
        batch_size: int = 100,
        retry_initial: float = 0.5,
        retry_max: float = 30.0,
        prepare: Callable[[], Awaitable[None]] | None = None,
        linger: float = 0.0,
    ) -> None:
        self._database = database
        self._broker = broker
        self._poll_seconds = poll_seconds
        self._batch_size = batch_size
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._prepare = prepare
        self._prepared = prepare is None
        self._linger = linger
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.watch(database)

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self, grace: float = 5.0) -> None:
        """Let the batch in progress finish (for up to `grace` seconds), then stop."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._wakeup.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), grace)
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    def wake(self) -> None:
        self._wakeup.set()

    def watch(self, database: Database) -> None:
        """Look at once after a commit of `database` that wrote to the outbox too: another
        `Database` of the same one in this process (a worker's beside its app's relay)."""
        database.after_commit_of(outbox_table, self.wake, operations={"insert"})

    async def idle(self) -> None:
        """Return once the relay has published all it found and waits for more."""
        await self._idle.wait()

    async def publish_pending(self) -> int:
        """Publish one batch of unpublished rows; the number published.

        Raises `BrokerUnavailable` when the broker did not accept them; they stay in the outbox.
        """
        failure: BrokerUnavailable | None = None
        if not self._prepared and self._prepare is not None:
            await self._prepare()
            self._prepared = True
        async with self._database.unit_of_work() as session:
            rows = await self._claim(session)
            if not rows:
                return 0
            published: list[int] = []
            try:
                await self._publish(rows, published)
            except BrokerUnavailable as exc:
                # Commit anyway: the claim counted an attempt, and some groups may have gone out.
                failure = exc
            if published:
                await session.execute(
                    update(outbox_table)
                    .where(one_of(session, outbox_table.c.id, published))
                    .values(published_at=datetime.now(UTC))
                )
        if failure is not None:
            raise failure
        return len(published)

    async def _claim(self, session: AsyncSession) -> Sequence[Row[tuple[int, str, str | None]]]:
        pending = (
            select(outbox_table.c.id)
            .where(outbox_table.c.published_at.is_(None))
            .order_by(outbox_table.c.id)
            .limit(self._batch_size)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        # Writing first takes SQLite's write lock at once, so two relays never claim one row.
        result = await session.execute(
            update(outbox_table)
            .where(outbox_table.c.id.in_(pending))
            .values(attempts=outbox_table.c.attempts + 1)
            .returning(outbox_table.c.id, outbox_table.c.body, outbox_table.c.queue)
        )
        return sorted(result.all(), key=lambda row: row.id)

    async def _publish(
        self, rows: Sequence[Row[tuple[int, str, str | None]]], published: list[int]
    ) -> None:
        # Consecutive rows for one destination go in one confirmed batch, keeping id order.
        for queue, group in itertools.groupby(rows, key=lambda row: row.queue):
            batch = list(group)
            await self._broker.publish([Message.from_json(row.body) for row in batch], queue=queue)
            published.extend(row.id for row in batch)

    async def _any_pending(self) -> bool:
        """Whether the outbox holds a row to publish: a read, where a claim is a write
        transaction (on SQLite it takes the write lock), for the polls that find nothing."""
        async with self._database.engine.connect() as connection:
            return (await connection.execute(_ANY_PENDING)).first() is not None

    async def _run(self) -> None:
        delay = 0.0
        woken = True  # the first look publishes what an earlier run left behind
        while not self._stopping:
            self._wakeup.clear()
            try:
                published = 0
                if woken or await self._any_pending():
                    woken = True  # until this batch is out
                    published = await self.publish_pending()
            except BrokerUnavailable as exc:
                self._prepared = self._prepare is None
                delay = min(max(delay * 2, self._retry_initial), self._retry_max)
                logger.warning(
                    "Outbox relay: broker unavailable (%s); retrying in %.1fs", exc, delay
                )
                await self._pause(delay)
                continue
            except Exception:
                delay = min(max(delay * 2, self._retry_initial), self._retry_max)
                logger.exception("Outbox relay failed; retrying in %.1fs", delay)
                await self._pause(delay)
                continue
            delay = 0.0
            if published < self._batch_size:
                self._idle.set()
                woken = False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), self._poll_seconds)
                    woken = True
                self._idle.clear()
                if woken and self._linger > 0:
                    # Woken by a commit: let the next few commits join this batch.
                    await asyncio.sleep(self._linger)

    async def _pause(self, seconds: float) -> None:
        # Commits do not cut a back-off short, or each one would hit a broker that is down.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not self._stopping and loop.time() < deadline:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), deadline - loop.time())
            self._wakeup.clear()
