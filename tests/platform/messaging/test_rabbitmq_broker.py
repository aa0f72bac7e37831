"""The RabbitMQ broker against a real, private RabbitMQ node."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aio_pika
import pytest

from bandstand.platform.messaging import BrokerUnavailable, Delivery, Message, RetryPolicy
from bandstand.platform.messaging.rabbitmq import RabbitMQBroker
from tests.platform.messaging.helpers import event, next_delivery
from tests.support.servers import RabbitMQServer
from tests.support.waiting import eventually

pytestmark = pytest.mark.rabbitmq

RETRY = RetryPolicy(max_attempts=5, base_delay=0.05, max_delay=0.1)


@pytest.fixture
async def rabbit(rabbitmq_url: str) -> AsyncIterator[RabbitMQBroker]:
    broker = RabbitMQBroker(rabbitmq_url, retry=RETRY, timeout=2, reconnect_interval=0.3)
    await broker.connect()
    yield broker
    await broker.close()


async def test_publish_consume_ack(rabbit: RabbitMQBroker) -> None:
    received: list[Message] = []

    async def handler(delivery: Delivery) -> None:
        received.append(delivery.message)

    await rabbit.declare_queue("billing.orders")
    consumer = await rabbit.consume("billing.orders", handler)
    sent = [Message.new("billing.order.placed", {"order_id": n}, "billing") for n in range(3)]
    try:
        await rabbit.publish(sent, queue="billing.orders")

        async def all_received() -> bool:
            return len(received) == 3

        await eventually(all_received)
    finally:
        await consumer.stop()

    assert received == sent
    assert await rabbit.queue_depth("billing.orders") == 0


async def test_get_ack_and_the_plain_json_body(rabbit: RabbitMQBroker) -> None:
    message = Message.new("billing.order.placed", {"order_id": 1}, "billing")
    await rabbit.publish([message], queue="work")
    assert await rabbit.queue_depth("work") == 1

    delivery = await next_delivery(rabbit, "work")

    assert delivery.message == message
    assert delivery.attempts == 1
    await delivery.ack()
    assert await rabbit.get("work") is None
    assert await rabbit.queue_depth("work") == 0


async def test_topic_bindings(rabbit: RabbitMQBroker) -> None:
    await rabbit.declare_queue("audit", ["identity.#"])
    await rabbit.declare_queue("erasure", ["*.user.*"])
    await rabbit.declare_queue("welcome", ["identity.user.registered"])

    await rabbit.publish(
        [
            event("identity.user.registered"),
            event("identity.role.granted"),
            event("music.user.deleted"),
            event("billing.order.paid"),
        ]
    )

    async def types(queue: str) -> list[str]:
        found = []
        while (delivery := await rabbit.get(queue)) is not None:
            found.append(delivery.message.type)
            await delivery.ack()
        return found

    assert await types("audit") == ["identity.user.registered", "identity.role.granted"]
    assert await types("erasure") == ["identity.user.registered", "music.user.deleted"]
    assert await types("welcome") == ["identity.user.registered"]


async def test_retries_with_attempts_then_dead_letters(rabbit: RabbitMQBroker) -> None:
    attempts: list[int] = []

    async def poison(delivery: Delivery) -> None:
        attempts.append(delivery.attempts)
        raise ValueError("cannot handle this")

    await rabbit.declare_queue("work")
    consumer = await rabbit.consume("work", poison)
    try:
        await rabbit.publish([event()], queue="work")

        async def dead_lettered() -> bool:
            return await rabbit.queue_depth("work.dlq") == 1

        await eventually(dead_lettered, timeout=10)
    finally:
        await consumer.stop()

    assert attempts == [1, 2, 3, 4, 5]
    assert await rabbit.queue_depth("work") == 0
    dead = await next_delivery(rabbit, "work.dlq")
    assert dead.attempts == 1  # the dead-letter queue counts its own attempts


async def test_reject_without_requeue_dead_letters(rabbit: RabbitMQBroker) -> None:
    await rabbit.publish([event()], queue="work")

    delivery = await next_delivery(rabbit, "work")
    await delivery.reject(requeue=False)

    dead = await next_delivery(rabbit, "work.dlq")
    assert dead.message == delivery.message


async def test_reject_with_requeue_comes_back_after_the_back_off(rabbit: RabbitMQBroker) -> None:
    await rabbit.publish([event()], queue="work")
    first = await next_delivery(rabbit, "work")
    await first.reject(requeue=True)

    assert await rabbit.queue_depth("work") == 1  # waiting in the retry queue
    second = await next_delivery(rabbit, "work")

    assert second.message == first.message
    assert second.attempts == 2


async def test_purge(rabbit: RabbitMQBroker) -> None:
    await rabbit.publish([event(), event()], queue="work")
    await rabbit.purge("work")
    await rabbit.purge("never.declared")

    assert await rabbit.queue_depth("work") == 0
    assert await rabbit.queue_depth("never.declared") == 0


async def test_messages_survive_a_broker_restart(
    rabbit: RabbitMQBroker, rabbitmq_server: RabbitMQServer
) -> None:
    await rabbit.declare_queue("audit", ["identity.#"])
    message = event("identity.user.registered")
    await rabbit.publish([message])

    # Stopping the broker application closes every queue and message store, as a full restart
    # does (only persistent messages of durable queues come back), without rebooting Erlang.
    await asyncio.to_thread(rabbitmq_server.stop_app)
    await asyncio.to_thread(rabbitmq_server.start)

    async def reconnected() -> bool:
        try:
            await rabbit.ping()
        except BrokerUnavailable:
            return False
        return True

    await eventually(reconnected, timeout=30, interval=0.1)
    delivery = await next_delivery(rabbit, "audit")
    assert delivery.message == message
    await delivery.ack()
    await rabbit.publish([event("identity.user.deleted")])  # the binding survived too
    assert (await next_delivery(rabbit, "audit")).message.type == "identity.user.deleted"


async def test_publish_fails_fast_while_down_and_recovers_without_a_new_broker(
    rabbit: RabbitMQBroker, rabbitmq_server: RabbitMQServer
) -> None:
    received: list[str] = []

    async def handler(delivery: Delivery) -> None:
        received.append(delivery.message.type)

    await rabbit.declare_queue("audit", ["identity.#"])
    consumer = await rabbit.consume("audit", handler)
    try:
        # Stops the broker application but not the Erlang node: an outage, quicker to end.
        await asyncio.to_thread(rabbitmq_server.stop_app)

        started = time.monotonic()
        with pytest.raises(BrokerUnavailable):
            await rabbit.publish([event("identity.user.lost")])
        with pytest.raises(BrokerUnavailable):
            await rabbit.ping()
        assert time.monotonic() - started < 3

        await asyncio.to_thread(rabbitmq_server.start)

        async def published() -> bool:
            try:
                await rabbit.publish([event("identity.user.registered")])
            except BrokerUnavailable:
                return False
            return True

        await eventually(published, timeout=30, interval=0.2)

        async def consumed() -> bool:  # the consumer resubscribed on its own
            return received == ["identity.user.registered"]

        await eventually(consumed, timeout=10)
    finally:
        await consumer.stop()


async def test_connect_fails_fast_when_nothing_listens() -> None:
    broker = RabbitMQBroker("amqp://guest:guest@127.0.0.1:1/", timeout=2)
    started = time.monotonic()

    with pytest.raises(BrokerUnavailable):
        await broker.connect()
    with pytest.raises(BrokerUnavailable):
        await broker.publish([event()])

    assert time.monotonic() - started < 3
    await broker.close()


async def test_a_malformed_message_is_dead_lettered(
    rabbit: RabbitMQBroker, rabbitmq_url: str
) -> None:
    await rabbit.declare_queue("work")
    connection = await aio_pika.connect(rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        await channel.default_exchange.publish(aio_pika.Message(b"<not json/>"), "work")
        await channel.default_exchange.publish(aio_pika.Message(event().to_json()), "work")

    delivery = await next_delivery(rabbit, "work")  # skips the malformed one

    assert delivery.message.type == "identity.user.registered"
    assert await rabbit.queue_depth("work.dlq") == 1


async def test_peek_takes_and_gives_back_counting_no_attempt(
    rabbit: RabbitMQBroker, rabbitmq_url: str
) -> None:
    await rabbit.declare_queue("work")
    sent = [event(f"work.item.n{i}") for i in range(3)]
    await rabbit.publish(sent, queue="work.dlq")
    connection = await aio_pika.connect(rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        raw = aio_pika.Message(b"<not json/>", message_id="raw-1")
        await channel.default_exchange.publish(raw, "work.dlq")

    for _ in range(2):
        seen = await rabbit.peek("work.dlq", 10)
        assert [p.message for p in seen[:3]] == sent
        assert (seen[3].message.id, seen[3].raw) == ("raw-1", b"<not json/>")
        assert seen[3].malformed is not None
    assert [p.message for p in await rabbit.peek("work.dlq", 2)] == sent[:2]
    assert await rabbit.queue_depth("work.dlq") == 4
    delivery = await next_delivery(rabbit, "work.dlq")
    assert (delivery.message, delivery.attempts) == (sent[0], 1)
    await delivery.ack()
