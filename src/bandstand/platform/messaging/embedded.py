"""A durable broker on one SQLite file, shared by the processes of one installation.

Queues, bindings and messages all live in the file, so a queue declared or a message published by
one process is seen by every other. Consumers poll; a delivery locks its row for a visibility
timeout, so the message of a consumer that died comes back once the lock expires.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import aiosqlite

from bandstand.platform.messaging.broker import (
    Broker,
    BrokerUnavailable,
    Consumer,
    Handler,
    Peeked,
    RetryPolicy,
    dead_letter_queue,
    is_dead_letter_queue,
    stand_in,
)
from bandstand.platform.messaging.embedded_consumer import EmbeddedConsumer
from bandstand.platform.messaging.embedded_delivery import EmbeddedDelivery
from bandstand.platform.messaging.embedded_sql import (
    ANY_READY,
    DELETE,
    LOCK,
    MOVE,
    NEXT_READY,
    PEEK,
    READY_AFTER,
    SCHEMA,
    SCHEMA_VERSION,
)
from bandstand.platform.messaging.message import Message, MessageFormatError
from bandstand.platform.messaging.topic import topic_matches

logger = logging.getLogger(__name__)


class EmbeddedBroker(Broker):
    def __init__(
        self,
        path: Path,
        *,
        retry: RetryPolicy | None = None,
        poll_interval: float = 0.1,
        visibility_timeout: float = 60.0,
        busy_timeout: float = 10.0,
    ) -> None:
        self.path = path
        self.retry = retry or RetryPolicy()
        self.poll_interval = poll_interval
        self.visibility_timeout = visibility_timeout
        self._busy_timeout_ms = int(busy_timeout * 1000)
        self._db: aiosqlite.Connection | None = None
        self._connect_lock = asyncio.Lock()
        # One connection serves every coroutine of this broker; a transaction must not interleave.
        self._lock = asyncio.Lock()
        self._closed = False
        self._consumers: set[EmbeddedConsumer] = set()

    async def connect(self) -> None:
        async with self._connect_lock:
            self._closed = False
            if self._db is not None:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db: aiosqlite.Connection | None = None
            try:
                db = await aiosqlite.connect(self.path, isolation_level=None)
                await db.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
                await db.execute("PRAGMA journal_mode=WAL")
                # FULL: a publish confirmed to the caller survives a power cut, not only a crash.
                await db.execute("PRAGMA synchronous=FULL")
                await db.execute("BEGIN IMMEDIATE")
                for statement in SCHEMA:
                    await db.execute(statement)
                await db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                await db.commit()
            except sqlite3.Error as exc:
                if db is not None:
                    await db.close()
                raise BrokerUnavailable(f"cannot open embedded broker {self.path}: {exc}") from exc
            self._db = db

    async def close(self) -> None:
        # Consumers first: the handlers they let finish still ack through this connection.
        await asyncio.gather(*(consumer.stop() for consumer in list(self._consumers)))
        self._closed = True
        async with self._connect_lock, self._lock:
            if self._db is not None:
                await self._db.close()
                self._db = None

    async def declare_queue(
        self, name: str, routing_keys: Sequence[str] = (), *, dead_letter: bool = True
    ) -> None:
        dead_letter = dead_letter and not is_dead_letter_queue(name)
        async with self._transaction() as db:
            await db.execute(
                "INSERT INTO queues (name, dead_letter) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET dead_letter = excluded.dead_letter",
                (name, int(dead_letter)),
            )
            if dead_letter:
                await self._ensure_queue(db, dead_letter_queue(name), dead_letter=False)
            await db.executemany(
                "INSERT OR IGNORE INTO bindings (queue, pattern) VALUES (?, ?)",
                [(name, pattern) for pattern in routing_keys],
            )

    async def publish(self, messages: Sequence[Message], *, queue: str | None = None) -> None:
        if not messages:
            return
        bodies = [(message, message.to_json().decode()) for message in messages]
        targets: set[str] = set()
        async with self._transaction() as db:
            now = time.time()
            if queue is not None:
                await self._ensure_queue(db, queue, dead_letter=True)
                routes = {message.id: [queue] for message in messages}
            else:
                bindings = [
                    (str(queue_name), str(pattern))
                    for queue_name, pattern in await db.execute_fetchall(
                        "SELECT queue, pattern FROM bindings"
                    )
                ]
                routes = {message.id: _route(message.type, bindings) for message in messages}
            rows = [
                (target, message.id, message.type, body, now, now)
                for message, body in bodies
                for target in routes[message.id]
            ]
            await db.executemany(
                "INSERT INTO messages (queue, message_id, routing_key, body, available_at,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
            targets.update(row[0] for row in rows)
        for consumer in self._consumers:
            if consumer.queue in targets:
                consumer.wake()

    async def publish_raw(self, queue: str, body: bytes, *, message_id: str) -> None:
        async with self._transaction() as db:
            now = time.time()
            await self._ensure_queue(db, queue, dead_letter=True)
            await db.execute(
                "INSERT INTO messages (queue, message_id, routing_key, body, available_at,"
                " created_at) VALUES (?, ?, '', ?, ?, ?)",
                (queue, message_id, body.decode(errors="replace"), now, now),
            )
        for consumer in self._consumers:
            if consumer.queue == queue:
                consumer.wake()

    async def consume(self, queue: str, handler: Handler, *, prefetch: int = 10) -> Consumer:
        await self._ready()
        consumer = EmbeddedConsumer(self, queue, handler, prefetch=prefetch)
        self._consumers.add(consumer)
        consumer.start()
        return consumer

    async def get(self, queue: str) -> EmbeddedDelivery | None:
        deliveries = await self.claim(queue, 1)
        return deliveries[0] if deliveries else None

    async def peek(self, queue: str, limit: int) -> list[Peeked]:
        """Read, not taken: one statement, no lock, no attempt counted."""
        async with self._statement() as db:
            now = time.time()
            rows = list(await db.execute_fetchall(PEEK, (queue, now, now, limit)))
        return [_peeked(str(message_id), body) for message_id, body in rows]

    async def queue_depth(self, name: str) -> int:
        async with self._statement() as db:
            rows = list(
                await db.execute_fetchall(
                    "SELECT count(*) FROM messages"
                    " WHERE queue = ? AND (locked_until IS NULL OR locked_until <= ?)",
                    (name, time.time()),
                )
            )
        return int(rows[0][0])

    async def purge(self, name: str) -> None:
        async with self._statement() as db:
            await db.execute("DELETE FROM messages WHERE queue = ?", (name,))

    async def ping(self) -> None:
        async with self._statement() as db:
            await db.execute_fetchall("SELECT 1")

    # Used by consumers and deliveries.

    def file_marks(self) -> tuple[int, ...] | None:
        """What every commit to the broker's file changes, read without a query (two `stat`s):
        its write-ahead log's size and time, and the file's. None when either is missing."""
        try:
            log = os.stat(f"{self.path}-wal")
            main = os.stat(self.path)
        except OSError:
            return None
        return (log.st_ino, log.st_size, log.st_mtime_ns, main.st_ino, main.st_mtime_ns)

    async def ready_after(self, queue: str) -> float:
        """When the first message of `queue` becomes ready by the clock (`time.time()`): its
        delay over, or the lock of a consumer that died expired; infinity without messages."""
        async with self._statement() as db:
            rows = list(await db.execute_fetchall(READY_AFTER, (queue,)))
        due = rows[0][0]
        return math.inf if due is None else float(due)

    async def claim(self, queue: str, limit: int) -> list[EmbeddedDelivery]:
        """Lock up to `limit` ready messages of `queue` for this process and return them."""
        async with self._statement() as db:
            now = time.time()
            ready = await db.execute_fetchall(ANY_READY, (queue, now, now))
        if not list(ready):
            return []
        token = uuid.uuid4().hex
        async with self._transaction() as db:
            now = time.time()
            candidates = list(await db.execute_fetchall(NEXT_READY, (queue, now, now, limit)))
            # Delivered max_attempts times without being settled: its consumers keep dying on it.
            exhausted = [row[0] for row in candidates if row[1] >= self.retry.max_attempts]
            await self._dead_letter_rows(db, queue, exhausted)
            claimed = [row[0] for row in candidates if row[1] < self.retry.max_attempts]
            if not claimed:
                return []
            rows = list(
                await db.execute_fetchall(
                    LOCK, (now + self.visibility_timeout, token, json.dumps(claimed))
                )
            )
        deliveries: list[EmbeddedDelivery] = []
        for row_id, body, attempts, message_id in sorted(rows):
            try:
                message = Message.from_json(body)
            except MessageFormatError as exc:
                if is_dead_letter_queue(queue):
                    parked = EmbeddedDelivery(
                        self, queue, stand_in(message_id), attempts, row_id=row_id, token=token
                    )
                    parked.malformed, parked.raw = str(exc), str(body).encode()
                    deliveries.append(parked)
                    continue
                logger.exception("Dead-lettering malformed message row %s of %s", row_id, queue)
                await self.dead_letter(queue, row_id, token)
                continue
            deliveries.append(
                EmbeddedDelivery(self, queue, message, attempts, row_id=row_id, token=token)
            )
        return deliveries

    def forget(self, consumer: EmbeddedConsumer) -> None:
        self._consumers.discard(consumer)

    async def renew(self, locks: Iterable[tuple[int, str]]) -> None:
        async with self._transaction() as db:
            await db.executemany(
                "UPDATE messages SET locked_until = ? WHERE id = ? AND lock_token = ?",
                [(time.time() + self.visibility_timeout, row_id, token) for row_id, token in locks],
            )

    async def ack(self, row_id: int, token: str) -> None:
        async with self._statement() as db:
            await db.execute(
                "DELETE FROM messages WHERE id = ? AND lock_token = ?", (row_id, token)
            )

    async def retry_later(self, row_id: int, token: str, delay: float) -> None:
        async with self._statement() as db:
            await db.execute(
                "UPDATE messages SET available_at = ?, locked_until = NULL, lock_token = NULL"
                " WHERE id = ? AND lock_token = ?",
                (time.time() + delay, row_id, token),
            )

    async def release(self, row_id: int, token: str) -> None:
        async with self._statement() as db:
            await db.execute(
                "UPDATE messages SET attempts = max(attempts - 1, 0), locked_until = NULL,"
                " lock_token = NULL WHERE id = ? AND lock_token = ?",
                (row_id, token),
            )

    async def dead_letter(self, queue: str, row_id: int, token: str) -> None:
        async with self._transaction() as db:
            held = await db.execute_fetchall(
                "SELECT 1 FROM messages WHERE id = ? AND lock_token = ?", (row_id, token)
            )
            if list(held):
                await self._dead_letter_rows(db, queue, [row_id])

    # Internals.

    async def _dead_letter_rows(
        self, db: aiosqlite.Connection, queue: str, row_ids: list[int]
    ) -> None:
        if not row_ids:
            return
        flag = list(
            await db.execute_fetchall("SELECT dead_letter FROM queues WHERE name = ?", (queue,))
        )
        if flag and flag[0][0]:
            target = dead_letter_queue(queue)
            await self._ensure_queue(db, target, dead_letter=False)
            # attempts restart: the dead-letter queue is a queue of its own, with its own retries.
            await db.execute(MOVE, (target, time.time(), json.dumps(row_ids)))
            logger.warning("Moved %d message(s) from %s to %s", len(row_ids), queue, target)
        else:
            await db.execute(DELETE, (json.dumps(row_ids),))
            logger.error(
                "Dropped %d failed message(s) of %s (no dead-letter queue)", len(row_ids), queue
            )

    @staticmethod
    async def _ensure_queue(db: aiosqlite.Connection, name: str, *, dead_letter: bool) -> None:
        dead_letter = dead_letter and not is_dead_letter_queue(name)
        await db.execute(
            "INSERT OR IGNORE INTO queues (name, dead_letter) VALUES (?, ?)",
            (name, int(dead_letter)),
        )
        if dead_letter:
            await db.execute(
                "INSERT OR IGNORE INTO queues (name, dead_letter) VALUES (?, 0)",
                (dead_letter_queue(name),),
            )

    async def _ready(self) -> aiosqlite.Connection:
        if self._closed:
            raise BrokerUnavailable("the embedded broker is closed")
        if self._db is None:
            await self.connect()
        if self._db is None:
            raise BrokerUnavailable("the embedded broker is closed")
        return self._db

    @asynccontextmanager
    async def _statement(self) -> AsyncIterator[aiosqlite.Connection]:
        """The connection, for one autocommitted statement."""
        db = await self._ready()
        async with self._lock:
            try:
                yield db
            except sqlite3.Error as exc:
                raise BrokerUnavailable(f"embedded broker error: {exc}") from exc

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """The connection inside a write transaction, committed when the block ends."""
        db = await self._ready()
        async with self._lock:
            try:
                # IMMEDIATE takes the write lock now, waiting up to busy_timeout; a deferred
                # transaction upgrading later could fail at once when another process wrote.
                await db.execute("BEGIN IMMEDIATE")
                yield db
                await db.commit()
            except BaseException as exc:
                if db.in_transaction:
                    with suppress(sqlite3.Error):
                        await db.rollback()
                if isinstance(exc, sqlite3.Error):
                    raise BrokerUnavailable(f"embedded broker error: {exc}") from exc
                raise


def _peeked(message_id: str, body: str) -> Peeked:
    try:
        return Peeked(Message.from_json(body))
    except MessageFormatError as exc:
        return Peeked(stand_in(message_id), str(exc), body.encode())


def _route(routing_key: str, bindings: Iterable[tuple[str, str]]) -> list[str]:
    return sorted({queue for queue, pattern in bindings if topic_matches(pattern, routing_key)})
