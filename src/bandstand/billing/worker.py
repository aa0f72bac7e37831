"""`bandstand worker billing`: consumes `billing_queue` and bills each order once.

- Prefetch `settings.worker_prefetch`; a message is acked only after its transaction committed.
- A message that cannot name an order is dead-lettered at once (it can never succeed). One whose
  processing raises is retried with back-off (`worker_retry_seconds`, doubling) and dead-lettered
  to `billing_queue.dlq` on its 5th failed attempt.
- Crashes count too, by the messaging layer (`RetryPolicy`): a message whose worker died with it
  has had an attempt, so one that kills its worker every time is dead-lettered after 5 tries
  instead of killing workers for ever.
- The database being down is no failure of the message: the worker holds it unacked and tries
  again with back-off until the database answers, then goes on. RabbitMQ being down: the
  connection comes back by itself, and unacked messages are delivered again (idempotently).
- SIGTERM or SIGINT: take no new message, finish those in hand, ack them, exit.
- Each commit moves billing's write generation (`platform.write_generation`), as the app's
  commits do: the orders list's kept counts and cached answers, in every process sharing Redis or
  (with in-memory caches, as in `bandstand up`) the data directory, see a completed order at the
  next read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bandstand.billing.events import BILLING_QUEUE, QUEUES, order_id_of
from bandstand.billing.processing import OrderMissing, OrderProcessor, Outcome, WorkItem
from bandstand.platform.cache import Cache, create_cache
from bandstand.platform.database import Database
from bandstand.platform.errors import is_unavailable
from bandstand.platform.group_commit import GroupCommit, grouped_unit_of_work
from bandstand.platform.messaging import (
    Broker,
    Consumer,
    Delivery,
    OutboxRelay,
    RetryPolicy,
    create_broker,
    declare_queues,
)
from bandstand.platform.settings import Settings
from bandstand.platform.write_generation import write_generation

logger = logging.getLogger("bandstand.billing.worker")

T = TypeVar("T")
MAX_ATTEMPTS = 5
BATCH_LINGER_SECONDS = 0.01
"""How long a batch of orders, and of events to publish, waits for more: nobody waits on the
worker's latency, and larger batches cost less per order."""
_BACKOFF_INITIAL = 0.2
_BACKOFF_MAX = 5.0
_SHUTDOWN_GRACE = 30.0
_CLOSE_TIMEOUT = 10.0


class BillingWorker:
    def __init__(
        self,
        settings: Settings,
        *,
        broker: Broker | None = None,
        database: Database | None = None,
        relay: OutboxRelay | None = None,
        cache: Cache | None = None,
    ) -> None:
        self.settings = settings
        retry = RetryPolicy(max_attempts=MAX_ATTEMPTS, base_delay=settings.worker_retry_seconds)
        self.broker = broker or create_broker(settings.broker_url, settings.data_dir, retry=retry)
        # No ping per checkout: `_with_database` already waits out a database that went away.
        self.database = database or Database(
            settings.database_url("billing"),
            pool_size=settings.database_pool_size,
            pre_ping=False,
        )
        self._owns_cache = cache is None
        self.cache = (
            cache
            if cache is not None
            else create_cache(settings.cache_url, max_bytes=settings.cache_max_bytes)
        )
        write_generation(settings, self.cache, "billing").follow(self.database)
        self.processor = OrderProcessor(self.database)
        self.batches: GroupCommit[WorkItem, Outcome] = grouped_unit_of_work(
            self.database,
            self.processor.process,
            max_size=settings.worker_prefetch,
            name="billing-batches",
            linger=BATCH_LINGER_SECONDS,
        )
        prepare = declare_queues(self.broker, QUEUES)
        # One relay per database in a process: beside the billing app (the same process), the
        # app's relay publishes the worker's events too; on its own, the worker runs one.
        self._owns_relay = relay is None
        self.relay = relay or OutboxRelay(
            self.database,
            self.broker,
            poll_seconds=settings.outbox_poll_seconds,
            prepare=prepare,
            linger=BATCH_LINGER_SECONDS,
        )
        if not self._owns_relay:
            self.relay.watch(self.database)
        self._prepare = prepare
        self._consumer: Consumer | None = None
        self.consuming = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set, then shut down gracefully."""
        if self._owns_relay:
            self.relay.start()
        try:
            subscribe = asyncio.create_task(self._subscribe(stop))
            await stop.wait()
            subscribe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await subscribe
        finally:
            await self.close()

    async def close(self) -> None:
        """Finish the messages in hand (up to the grace period), then let go of everything;
        each step is bounded, so a broker or database that is gone cannot hold the exit."""
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await consumer.stop(_SHUTDOWN_GRACE)
        steps = (self.relay.stop,) if self._owns_relay else ()
        owned = (self.cache.close,) if self._owns_cache else ()
        for step in (*steps, self.broker.close, self.database.dispose, *owned):
            try:
                async with asyncio.timeout(_CLOSE_TIMEOUT):
                    await step()
            except Exception as exc:
                logger.warning("worker shutdown: %s did not finish cleanly: %r", step, exc)

    async def _subscribe(self, stop: asyncio.Event) -> None:
        """Declare the queue and consume it, retrying with back-off while the broker is away."""
        delay = _BACKOFF_INITIAL
        while not stop.is_set():
            try:
                await self.broker.connect()
                await self._prepare()
                self._consumer = await self.broker.consume(
                    BILLING_QUEUE, self.handle, prefetch=self.settings.worker_prefetch
                )
            except Exception as exc:
                logger.warning(
                    "cannot consume %s yet (%s); retrying in %.1f s", BILLING_QUEUE, exc, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, _BACKOFF_MAX)
                continue
            logger.info("consuming %s", BILLING_QUEUE)
            self.consuming.set()
            return

    async def handle(self, delivery: Delivery) -> None:
        order_id = order_id_of(delivery.message)
        if order_id is None:
            logger.error("message %s names no order: dead-lettering it", delivery.message.id)
            await delivery.reject(requeue=False)
            return
        item = WorkItem(order_id, delivery.message)
        outcome = await self._with_database(lambda: self.batches.submit(item))
        if isinstance(outcome, OrderMissing):
            raise outcome
        if outcome is not None:
            logger.debug("order %s %s", order_id, outcome)

    async def _with_database(self, action: Callable[[], Awaitable[T]]) -> T:
        """Run `action`, waiting out a database that is down (the message stays unacked)."""
        delay = _BACKOFF_INITIAL
        while True:
            try:
                return await action()
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                logger.warning("billing database unavailable (%s); retrying in %.1f s", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, _BACKOFF_MAX)


async def run_worker(settings: Settings, stop: asyncio.Event) -> None:
    """The entry point `bandstand worker billing` runs."""
    await BillingWorker(settings).run(stop)


__all__ = ["BillingWorker", "run_worker"]
