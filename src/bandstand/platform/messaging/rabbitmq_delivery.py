"""A message received from RabbitMQ, settled through its broker; and a `Message` as AMQP."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from bandstand.platform.messaging.acks import AckWindow
from bandstand.platform.messaging.broker import BrokerUnavailable, Delivery, is_dead_letter_queue
from bandstand.platform.messaging.message import Message

if TYPE_CHECKING:
    from bandstand.platform.messaging.rabbitmq import RabbitMQBroker

# The broker's logger: a dead-lettering is reported with the rest of the broker's messages.
logger = logging.getLogger("bandstand.platform.messaging.rabbitmq")


class RabbitMQDelivery(Delivery):
    def __init__(
        self,
        broker: RabbitMQBroker,
        queue: str,
        message: Message,
        attempts: int,
        incoming: AbstractIncomingMessage,
        acks: AckWindow | None = None,
    ) -> None:
        super().__init__(queue, message, attempts, broker.retry)
        self._broker = broker
        self._incoming = incoming
        self._acks = acks

    async def _ack(self) -> None:
        async with self._broker.guard("ack"):
            if self._acks is None:
                await self._incoming.ack()
            else:
                await self._acks.ack(self._incoming)

    async def _retry(self, delay: float) -> None:
        await self._broker.retry_later(self.queue, self._incoming, self.attempts + 1, delay)
        await self._ack()

    async def _settle_alone(self, action: str, settle: Callable[[], Awaitable[None]]) -> None:
        try:
            async with self._broker.guard(action):
                await settle()
        finally:
            if self._acks is not None:
                self._acks.forget(self._incoming)

    async def _dead_letter(self) -> None:
        logger.warning(
            "Dead-lettering message %s (%s) from %s after %d attempt(s)",
            self.message.id,
            self.message.type,
            self.queue,
            self.attempts,
        )
        await self._settle_alone("reject", lambda: self._incoming.reject(requeue=False))

    async def _release(self) -> None:
        if is_dead_letter_queue(self.queue):  # no attempts to count there; the order stays
            await self._settle_alone("release", lambda: self._incoming.nack(requeue=True))
            return
        # Given back as it is, it would come back flagged redelivered: counted as an attempt.
        try:
            await self._broker.retry_later(self.queue, self._incoming, self.attempts, 0)
        except BrokerUnavailable:
            await self._settle_alone("release", lambda: self._incoming.nack(requeue=True))
            return
        await self._ack()


def amqp_message(message: Message) -> aio_pika.Message:
    return aio_pika.Message(
        body=message.to_json(),
        headers=dict(message.headers),
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=message.id,
        type=message.type,
        timestamp=message.occurred_at,
        app_id=message.source,
    )
