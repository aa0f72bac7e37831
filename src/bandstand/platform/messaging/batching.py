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

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.platform.database import Database
from bandstand.platform.group_commit import GroupCommit, grouped_unit_of_work
from bandstand.platform.messaging.broker import Delivery, Handler
from bandstand.platform.messaging.idempotency import mark_all_processed
from bandstand.platform.messaging.message import Message

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
    """The deliveries of one subscription, written by group commit (`platform.group_commit`):
    a batch waits `max_wait` for company, and one that fails is handled again message by
    message. The handler's after-commit work runs with each batch's commit, before the acks."""

    def __init__(self, database: Database, subscription: BatchSubscription) -> None:
        self._subscription = subscription
        self._group: GroupCommit[Message, None] = grouped_unit_of_work(
            database,
            self._write,
            max_size=subscription.batch_size,
            name=f"batch-{subscription.queue}",
            linger=subscription.max_wait,
        )

    async def handle(self, delivery: Delivery) -> None:
        await self._group.submit(delivery.message)

    async def _write(self, session: AsyncSession, batch: list[Message]) -> list[None]:
        subscription = self._subscription
        # A message delivered twice into one batch is handled once.
        messages = list({message.id: message for message in batch}.values())
        if subscription.record_processed:
            new = await mark_all_processed(
                session, [message.id for message in messages], subscription.queue
            )
            messages = [message for message in messages if message.id in new]
        if messages:
            await subscription.handler(session, messages)
        return [None] * len(batch)
