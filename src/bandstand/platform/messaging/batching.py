"""Consuming many messages per transaction: a subscription whose handler takes a batch.

A consumer that handles each message in its own transaction pays a commit per message; one that
records every event (an audit log) needs more. `BatchSubscription` gathers the deliveries that
arrive within `max_wait` seconds (at most `batch_size`, waiting no longer once that many are
there), hands their messages to the handler in one transaction and acks each after the commit.

Idempotent like `Subscription`: by default the message ids are recorded as processed in the same
transaction and the handler sees only new ones. A handler that keys its own rows by message id
(a unique column written with ON CONFLICT DO NOTHING) may set `record_processed=False`.

When a batch fails, each of its messages is tried again alone in its own transaction, so one
poison message is retried and dead-lettered by itself, never the batch with it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.platform.database import Database
from bandstand.platform.messaging.broker import Delivery, Handler
from bandstand.platform.messaging.idempotency import mark_all_processed
from bandstand.platform.messaging.message import Message
from bandstand.platform.messaging.outbox import OUTBOX_PENDING

logger = logging.getLogger(__name__)

BatchHandler = Callable[[AsyncSession, Sequence[Message]], Awaitable[None]]


@dataclass(frozen=True)
class BatchSubscription:
    """`queue`, bound to `routing_keys` (`#`: every event), handled `batch_size` at a time."""

    queue: str
    routing_keys: tuple[str, ...]
    handler: BatchHandler
    batch_size: int = 200
    max_wait: float = 0.05
    record_processed: bool = True

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError("batch_size must be at least 1")

    @property
    def prefetch(self) -> int:
        # One batch in its transaction while the next one fills.
        return self.batch_size * 2

    def delivery_handler(self, database: Database) -> Handler:
        return _Batcher(database, self).handle


class _Batcher:
    def __init__(self, database: Database, subscription: BatchSubscription) -> None:
        self._database = database
        self._subscription = subscription
        self._pending: list[tuple[Message, asyncio.Future[None]]] = []
        self._full = asyncio.Event()
        self._lock = asyncio.Lock()

    async def handle(self, delivery: Delivery) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((delivery.message, future))
        if len(self._pending) >= self._subscription.batch_size:
            self._full.set()
        if len(self._pending) == 1:
            # The first message of a batch leads it: waits for the others, then commits them all.
            await self._lead(self._full)
        await future

    async def _lead(self, full: asyncio.Event) -> None:
        batch: list[tuple[Message, asyncio.Future[None]]] = []
        try:
            with suppress(TimeoutError):
                await asyncio.wait_for(full.wait(), self._subscription.max_wait)
            async with self._lock:
                batch, self._pending = self._pending, []
                self._full = asyncio.Event()
                await self._run(batch)
        finally:
            # Cancelled (the consumer stops): the messages not settled go back to the broker.
            if not batch:
                batch, self._pending = self._pending, []
                self._full = asyncio.Event()
            for _, future in batch:
                if not future.done():
                    future.cancel()

    async def _run(self, batch: list[tuple[Message, asyncio.Future[None]]]) -> None:
        messages = list({message.id: message for message, _ in batch}.values())
        try:
            await self._transaction(messages)
        except Exception as exc:
            if len(messages) == 1:
                _settle(batch, {messages[0].id: exc})
                return
            logger.warning(
                "a batch of %d messages of %s failed (%s); handling them one by one",
                len(messages),
                self._subscription.queue,
                exc or type(exc).__name__,
            )
            failures: dict[str, BaseException] = {}
            for message in messages:
                try:
                    await self._transaction([message])
                except Exception as single:
                    failures[message.id] = single
            _settle(batch, failures)
        else:
            _settle(batch, {})

    async def _transaction(self, messages: Sequence[Message]) -> None:
        subscription = self._subscription
        async with self._database.session() as session:
            async with session.begin():
                if subscription.record_processed:
                    new = await mark_all_processed(
                        session, [message.id for message in messages], subscription.queue
                    )
                    messages = [message for message in messages if message.id in new]
                if messages:
                    await subscription.handler(session, messages)
            if session.info.get(OUTBOX_PENDING):
                self._database.notify_committed()


def _settle(
    batch: list[tuple[Message, asyncio.Future[None]]], failures: dict[str, BaseException]
) -> None:
    for message, future in batch:
        if future.done():
            continue
        failure = failures.get(message.id)
        if failure is None:
            future.set_result(None)
        else:
            future.set_exception(failure)
