"""The RabbitMQ broker: a durable topic exchange, durable queues and publisher confirms.

Retries: a failed message is republished, with its attempt count in a header, to a retry queue
`<queue>.retry.<ms>` whose messages expire after that many milliseconds and are then dead-lettered
by RabbitMQ back to `<queue>`; the original is acked once the copy is confirmed. A message out of
attempts, or rejected without requeue, is rejected and RabbitMQ dead-letters it to `<queue>.dlq`.

Attempts: RabbitMQ puts a message whose consumer went away without settling it (a process that
died, a connection lost) back in its queue flagged `redelivered`, and counts nothing (a classic
queue has no delivery count). Such a message is not handed out: its consumer's delivery was an
attempt, so it is rejected like a failure (retried after the back-off with its count raised, or
dead-lettered after the last attempt). A delivery given back on purpose (`release`) is a copy
carrying the same count, so it is not counted. Only messages that came back pay for this; the
common path reads one flag.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any, NamedTuple

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustChannel,
    AbstractRobustConnection,
)
from aio_pika.exceptions import CONNECTION_EXCEPTIONS, ChannelNotFoundEntity
from aiormq.exceptions import ChannelPreconditionFailed
from yarl import URL

from bandstand.platform.messaging.acks import AckWindow
from bandstand.platform.messaging.broker import (
    EVENTS_EXCHANGE,
    Broker,
    BrokerUnavailable,
    Consumer,
    Delivery,
    Handler,
    RetryPolicy,
    dead_letter_queue,
    is_dead_letter_queue,
    stand_in,
)
from bandstand.platform.messaging.message import Message, MessageFormatError
from bandstand.platform.messaging.rabbitmq_consumer import RabbitMQConsumer
from bandstand.platform.messaging.rabbitmq_delivery import RabbitMQDelivery, amqp_message

logger = logging.getLogger(__name__)

ATTEMPTS_HEADER = "x-bandstand-attempts"
# The queue the count belongs to: a dead-lettered message starts afresh in the dead-letter queue.
ATTEMPTS_QUEUE_HEADER = "x-bandstand-attempts-queue"
_FAILURES = (TimeoutError, *CONNECTION_EXCEPTIONS)


class RabbitMQBroker(Broker):
    def __init__(
        self,
        url: str,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = 5.0,
        reconnect_interval: float = 2.0,
    ) -> None:
        self.url = url
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self._reconnect_interval = reconnect_interval
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractRobustChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._queues: dict[str, AbstractQueue] = {}
        # How consumers declare each queue on their own channel: as this broker declared it, or
        # passively for a queue found declared by someone else.
        self._declarations: dict[str, dict[str, Any]] = {}
        self._retry_queues: set[str] = set()
        self._consumers: set[RabbitMQConsumer] = set()
        self._connect_lock = asyncio.Lock()
        self._closed = False

    async def connect(self) -> None:
        async with self._connect_lock:
            self._closed = False
            if self._connection is not None:
                return
            url = URL(self.url)
            if "reconnect_interval" not in url.query:
                url = url.update_query(reconnect_interval=str(self._reconnect_interval))
            connection = aio_pika.RobustConnection(url)
            try:
                async with asyncio.timeout(self.timeout):
                    await connection.connect(timeout=self.timeout)
                    channel = await connection.channel(publisher_confirms=True)
                    exchange = await channel.declare_exchange(
                        EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
                    )
            except _FAILURES as exc:
                with suppress(*_FAILURES):
                    await connection.close()
                raise BrokerUnavailable(f"cannot connect to RabbitMQ: {exc!r}") from exc
            self._connection, self._channel, self._exchange = connection, channel, exchange

    async def close(self) -> None:
        # Consumers first: the handlers they let finish still ack through this connection.
        await asyncio.gather(*(consumer.stop() for consumer in list(self._consumers)))
        self._closed = True
        async with self._connect_lock:
            if self._connection is not None:
                with suppress(*_FAILURES):
                    await self._connection.close()
            self._connection = self._channel = self._exchange = None
            self._queues.clear()
            self._declarations.clear()
            self._retry_queues.clear()

    async def declare_queue(
        self, name: str, routing_keys: Sequence[str] = (), *, dead_letter: bool = True
    ) -> None:
        _, channel, exchange = await self._ready()
        dead_letter = dead_letter and not is_dead_letter_queue(name)
        arguments: dict[str, Any] = {}
        async with self.guard(f"declare queue {name}"):
            if dead_letter:
                await channel.declare_queue(dead_letter_queue(name), durable=True)
                arguments = {
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": dead_letter_queue(name),
                }
            queue = await channel.declare_queue(name, durable=True, arguments=arguments)
            for pattern in routing_keys:
                await queue.bind(exchange, pattern)
        self._queues[name] = queue
        self._declarations[name] = {"durable": True, "arguments": arguments}

    async def publish(self, messages: Sequence[Message], *, queue: str | None = None) -> None:
        if not messages:
            return
        _, channel, exchange = await self._ready()
        if queue is not None:
            await self._known_queue(queue)
            exchange = channel.default_exchange
        await self.publish_confirmed(
            exchange, [(amqp_message(message), queue or message.type) for message in messages]
        )

    async def publish_raw(self, queue: str, body: bytes, *, message_id: str) -> None:
        await self._known_queue(queue)
        _, channel, _ = await self._ready()
        message = aio_pika.Message(
            body=body, message_id=message_id, delivery_mode=aio_pika.DeliveryMode.PERSISTENT
        )
        await self.publish_confirmed(channel.default_exchange, [(message, queue)])

    async def consume(self, queue: str, handler: Handler, *, prefetch: int = 10) -> Consumer:
        await self._known_queue(queue)
        link = await self._ready()
        consumer = RabbitMQConsumer(self, queue, handler, prefetch=prefetch)
        async with self.guard(f"consume {queue}"):
            await consumer.start(link.connection, self._declarations[queue])
        self._consumers.add(consumer)
        return consumer

    async def get(self, queue: str) -> Delivery | None:
        handle = await self._known_queue(queue)
        while True:
            async with self.guard(f"get from {queue}"):
                incoming = await handle.get(no_ack=False, fail=False, timeout=self.timeout)
            if incoming is None:
                return None
            delivery = await self.delivery(queue, incoming)
            if delivery is not None:
                return delivery

    async def queue_depth(self, name: str) -> int:
        # Retry queues first: a waiting message only moves from them back to `name`, so one
        # moving while they are counted one by one is counted once, never missed.
        async with self._existing([*self._retry_queue_names(name), name]) as queues:
            return sum(queue.declaration_result.message_count or 0 for queue in queues)

    async def purge(self, name: str) -> None:
        # Retry queues first, for the same reason as in `queue_depth`.
        async with self._existing([*self._retry_queue_names(name), name]) as queues:
            for queue in queues:
                async with self.guard(f"purge {queue.name}"):
                    await queue.purge()

    async def ping(self) -> None:
        await self._ready()

    # Used by consumers and deliveries.

    def forget(self, consumer: RabbitMQConsumer) -> None:
        self._consumers.discard(consumer)

    async def delivery(
        self, queue: str, incoming: AbstractIncomingMessage, acks: AckWindow | None = None
    ) -> RabbitMQDelivery | None:
        """Wrap a received message; a malformed one is dead-lettered and None returned (on a
        dead-letter queue it is parked: handed out with `malformed` set).

        With `acks` (a consumer's), its acks go out with the others of the same moment."""
        try:
            message = Message.from_json(incoming.body)
        except MessageFormatError as exc:
            if is_dead_letter_queue(queue):
                # A body without a message id is named by its digest: stable across listings.
                message_id = incoming.message_id or hashlib.sha256(incoming.body).hexdigest()[:32]
                parked = RabbitMQDelivery(self, queue, stand_in(message_id), 1, incoming, acks)
                parked.malformed, parked.raw = str(exc), bytes(incoming.body)
                return parked
            logger.exception(
                "Dead-lettering malformed message %s on %s", incoming.message_id, queue
            )
            try:
                async with self.guard("reject a malformed message"):
                    await incoming.reject(requeue=False)
            finally:
                if acks is not None:
                    acks.forget(incoming)
            return None
        attempts = incoming.headers.get(ATTEMPTS_HEADER)
        if not isinstance(attempts, int) or incoming.headers.get(ATTEMPTS_QUEUE_HEADER) != queue:
            attempts = 1
        delivery = RabbitMQDelivery(self, queue, message, attempts, incoming, acks)
        if incoming.redelivered and not is_dead_letter_queue(queue):
            logger.warning(
                "Message %s (%s) came back to %s from a consumer gone with it on attempt %d",
                message.id,
                message.type,
                queue,
                attempts,
            )
            await delivery.reject()
            return None
        return delivery

    async def retry_later(
        self, queue: str, incoming: AbstractIncomingMessage, attempts: int, delay: float
    ) -> None:
        """Put a copy of `incoming` counting `attempts` on `queue` after `delay` seconds (at once
        without one); the caller acks the original once this returned."""
        channel = (await self._ready()).channel
        target = await self._retry_queue(channel, queue, delay) if delay > 0 else queue
        copy = aio_pika.Message(
            body=incoming.body,
            headers={**incoming.headers, ATTEMPTS_HEADER: attempts, ATTEMPTS_QUEUE_HEADER: queue},
            content_type=incoming.content_type,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=incoming.message_id,
            type=incoming.type,
            timestamp=incoming.timestamp,
            app_id=incoming.app_id,
        )
        await self.publish_confirmed(channel.default_exchange, [(copy, target)])

    async def publish_confirmed(
        self, exchange: AbstractExchange, items: Sequence[tuple[aio_pika.Message, str]]
    ) -> None:
        try:
            async with asyncio.timeout(self.timeout):
                results = await asyncio.gather(
                    *(exchange.publish(message, key, mandatory=False) for message, key in items),
                    return_exceptions=True,
                )
        except TimeoutError as exc:
            raise BrokerUnavailable("RabbitMQ did not confirm the messages in time") from exc
        for result in results:
            if isinstance(result, BaseException):
                raise BrokerUnavailable(
                    f"RabbitMQ did not accept a message: {result!r}"
                ) from result

    @asynccontextmanager
    async def guard(self, action: str) -> AsyncIterator[None]:
        """Bound an operation in time and report a lost broker as `BrokerUnavailable`."""
        try:
            async with asyncio.timeout(self.timeout):
                yield
        except ChannelPreconditionFailed:
            raise
        except _FAILURES as exc:
            raise BrokerUnavailable(f"RabbitMQ: cannot {action}: {exc!r}") from exc

    # Internals.

    async def _ready(self) -> _Link:
        if self._closed:
            raise BrokerUnavailable("the RabbitMQ broker is closed")
        if self._connection is None:
            await self.connect()
        connection, channel, exchange = self._connection, self._channel, self._exchange
        if connection is None or channel is None or exchange is None:
            raise BrokerUnavailable("not connected to RabbitMQ")
        # A robust connection waits for the broker to come back; callers want to know at once.
        if connection.is_closed or not connection.connected.is_set() or channel.is_closed:
            raise BrokerUnavailable("the connection to RabbitMQ is down; reconnecting")
        return _Link(connection, channel, exchange)

    async def _known_queue(self, name: str) -> AbstractQueue:
        """A handle on queue `name`, declared with the defaults if it does not exist yet."""
        if name in self._queues:
            return self._queues[name]
        async with self._existing([name]) as found:
            exists = bool(found)
        if not exists:
            await self.declare_queue(name)
            return self._queues[name]
        _, channel, _ = await self._ready()
        async with self.guard(f"declare queue {name}"):
            queue = await channel.declare_queue(name, passive=True)
        self._queues[name] = queue
        self._declarations[name] = {"passive": True}
        return queue

    async def _retry_queue(self, channel: AbstractChannel, queue: str, delay: float) -> str:
        name, milliseconds = _retry_queue_name(queue, delay), _milliseconds(delay)
        if name not in self._retry_queues:
            async with self.guard(f"declare queue {name}"):
                await channel.declare_queue(
                    name,
                    durable=True,
                    arguments={
                        "x-message-ttl": milliseconds,
                        "x-dead-letter-exchange": "",
                        "x-dead-letter-routing-key": queue,
                    },
                )
            self._retry_queues.add(name)
        return name

    def _retry_queue_names(self, queue: str) -> list[str]:
        delays = {self.retry.delay(attempt) for attempt in range(1, self.retry.max_attempts)}
        return [_retry_queue_name(queue, delay) for delay in sorted(delays)]

    @asynccontextmanager
    async def _existing(self, names: Sequence[str]) -> AsyncIterator[list[AbstractQueue]]:
        """The queues among `names` that exist, each passively declared on a channel of its own.

        The server answers a passive declaration of a missing queue by closing the channel, and
        a robust channel would reopen itself: these channels are plain ones, closed after use.
        """
        link = await self._ready()
        channels: list[AbstractChannel] = []
        found: list[AbstractQueue] = []
        try:
            for name in names:
                channel: AbstractChannel = aio_pika.Channel(
                    link.connection, publisher_confirms=False
                )
                channels.append(channel)
                async with self.guard(f"inspect queue {name}"):
                    await channel
                    with suppress(ChannelNotFoundEntity):
                        found.append(await channel.declare_queue(name, passive=True))
            yield found
        finally:
            for channel in channels:
                if not channel.is_closed:
                    with suppress(*_FAILURES):
                        await channel.close()


class _Link(NamedTuple):
    connection: AbstractRobustConnection
    channel: AbstractRobustChannel
    exchange: AbstractExchange


def _milliseconds(delay: float) -> int:
    return max(int(delay * 1000), 0)


def _retry_queue_name(queue: str, delay: float) -> str:
    return f"{queue}.retry.{_milliseconds(delay)}"
