"""A RabbitMQ subscription: its own robust channel, prefetch, and a handler task per message."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from aio_pika.abc import (
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustChannel,
    AbstractRobustConnection,
)
from aio_pika.exceptions import CONNECTION_EXCEPTIONS

from bandstand.platform.messaging.acks import AckWindow
from bandstand.platform.messaging.broker import Consumer, Handler
from bandstand.platform.messaging.dispatch import dispatch

if TYPE_CHECKING:
    from bandstand.platform.messaging.rabbitmq import RabbitMQBroker

logger = logging.getLogger(__name__)


class RabbitMQConsumer(Consumer):
    def __init__(
        self, broker: RabbitMQBroker, queue: str, handler: Handler, *, prefetch: int
    ) -> None:
        super().__init__(queue, handler, prefetch=prefetch)
        self._broker = broker
        self._in_flight: set[asyncio.Task[Any]] = set()
        # Messages handed back while stopping: their reject must reach the channel before it
        # closes (one sent after is a channel error that closes the whole connection).
        self._handing_back: set[asyncio.Task[Any]] = set()
        self._channel: AbstractRobustChannel | None = None
        self._amqp_queue: AbstractQueue | None = None
        self._tag: str | None = None
        self._acks = AckWindow()

    async def start(
        self, connection: AbstractRobustConnection, declaration: dict[str, Any]
    ) -> None:
        # A channel of its own: prefetch is per channel, and the robust channel re-subscribes
        # after RabbitMQ comes back.
        self._channel = channel = await connection.channel(publisher_confirms=False)
        await channel.set_qos(prefetch_count=self._prefetch)
        self._amqp_queue = await channel.declare_queue(self.queue, **declaration)
        self._tag = await self._amqp_queue.consume(self._on_message)

    async def stop(self, grace: float | None = 30.0) -> None:
        self._stopping = True
        queue, tag = self._amqp_queue, self._tag
        if queue is not None and tag is not None:
            with suppress(TimeoutError, *CONNECTION_EXCEPTIONS):
                async with asyncio.timeout(self._broker.timeout):
                    await queue.cancel(tag)
        if self._in_flight:
            _, pending = await asyncio.wait(set(self._in_flight), timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._handing_back:
            await asyncio.wait(set(self._handing_back), timeout=self._broker.timeout)
        if self._channel is not None:
            with suppress(TimeoutError, *CONNECTION_EXCEPTIONS):
                async with asyncio.timeout(self._broker.timeout):
                    # Closing the channel hands any message still prefetched back to RabbitMQ.
                    await self._channel.close()
        self._broker.forget(self)

    async def _on_message(self, incoming: AbstractIncomingMessage) -> None:
        if self._stopping:
            task = asyncio.current_task()
            assert task is not None
            self._handing_back.add(task)
            try:
                with suppress(Exception):
                    delivery = await self._broker.delivery(self.queue, incoming)
                    if delivery is not None:
                        await delivery.release()
            finally:
                self._handing_back.discard(task)
            return
        task = asyncio.current_task()
        assert task is not None
        self._in_flight.add(task)
        self._acks.delivered(incoming)
        try:
            delivery = await self._broker.delivery(self.queue, incoming, self._acks)
            if delivery is not None:
                await dispatch(delivery, self._handler)
        except Exception:
            logger.exception("Could not handle a message of %s", self.queue)
        finally:
            self._in_flight.discard(task)
