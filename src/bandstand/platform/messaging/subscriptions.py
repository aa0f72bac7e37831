"""A service's event subscriptions: its durable queue, its bindings and a handler per event type.

Started with the service (`create_service_app(..., subscriptions=...)`). A broker that is down at
start does not stop the service: each subscription is retried with back-off until it is
declared and consuming. Handlers run through `handle_idempotently`, so a redelivered message
changes nothing; a message of a type without a handler is acknowledged and ignored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.platform.database import Database
from bandstand.platform.messaging.broker import Broker, Consumer, Handler
from bandstand.platform.messaging.consumer import MessageHandler, idempotent_handler
from bandstand.platform.messaging.message import Message

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Subscription:
    """`queue` receives every event whose type is a key of `handlers`."""

    queue: str
    handlers: Mapping[str, MessageHandler]
    prefetch: int = 10
    extra_bindings: tuple[str, ...] = field(default=())

    @property
    def routing_keys(self) -> tuple[str, ...]:
        return (*self.handlers, *self.extra_bindings)

    async def handle(self, session: AsyncSession, message: Message) -> None:
        handler = self.handlers.get(message.type)
        if handler is None:
            logger.debug("%s ignores %s", self.queue, message.type)
            return
        await handler(session, message)

    def delivery_handler(self, database: Database) -> Handler:
        return idempotent_handler(database, self.queue, self.handle)


class Subscribing(Protocol):
    """What the runner needs of a subscription (`Subscription`, `BatchSubscription`)."""

    @property
    def queue(self) -> str: ...

    @property
    def routing_keys(self) -> tuple[str, ...]: ...

    @property
    def prefetch(self) -> int: ...

    def delivery_handler(self, database: Database) -> Handler: ...


class SubscriptionRunner:
    """Keeps each subscription consuming, retrying with back-off while the broker is away."""

    def __init__(
        self,
        database: Database,
        broker: Broker,
        subscriptions: Sequence[Subscribing],
        *,
        retry_initial: float = 0.5,
        retry_max: float = 15.0,
    ) -> None:
        self._database = database
        self._broker = broker
        self._subscriptions = list(subscriptions)
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._consumers: list[Consumer] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._subscribed: dict[str, asyncio.Event] = {}

    @property
    def queues(self) -> list[str]:
        """The queues this runner consumes."""
        return [subscription.queue for subscription in self._subscriptions]

    def start(self) -> None:
        for subscription in self._subscriptions:
            self._subscribed[subscription.queue] = asyncio.Event()
            self._tasks.append(
                asyncio.create_task(
                    self._subscribe(subscription), name=f"subscribe:{subscription.queue}"
                )
            )

    async def wait_subscribed(self) -> None:
        """Return once every subscription is consuming (wrap in `asyncio.timeout` to bound it)."""
        await asyncio.gather(*(event.wait() for event in self._subscribed.values()))

    async def stop(self, grace: float | None = 30.0) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        consumers, self._consumers = self._consumers, []
        for consumer in consumers:
            try:
                await consumer.stop(grace)
            except Exception:
                logger.exception("stopping the consumer of %s failed", consumer.queue)

    async def _subscribe(self, subscription: Subscribing) -> None:
        delay = self._retry_initial
        while True:
            try:
                await self._broker.declare_queue(subscription.queue, subscription.routing_keys)
                consumer = await self._broker.consume(
                    subscription.queue,
                    subscription.delivery_handler(self._database),
                    prefetch=subscription.prefetch,
                )
            except Exception as exc:
                logger.warning(
                    "cannot subscribe %s yet (%s); retrying in %.1f s",
                    subscription.queue,
                    exc or type(exc).__name__,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._retry_max)
                continue
            self._consumers.append(consumer)
            self._subscribed[subscription.queue].set()
            logger.info("consuming %s", subscription.queue)
            return
