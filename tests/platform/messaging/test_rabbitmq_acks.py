"""A RabbitMQ consumer's acks go out together, and never cover a message not acked."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import pytest

from bandstand.platform.messaging import Delivery, Message, RetryPolicy
from bandstand.platform.messaging.rabbitmq import RabbitMQBroker
from tests.support.servers import RabbitMQServer
from tests.support.waiting import eventually

pytestmark = pytest.mark.rabbitmq

QUEUE = "acks.work"


@pytest.fixture
async def rabbit(rabbitmq_url: str) -> AsyncIterator[RabbitMQBroker]:
    retry = RetryPolicy(max_attempts=1, base_delay=0.05, max_delay=0.1)
    broker = RabbitMQBroker(rabbitmq_url, retry=retry, timeout=5, reconnect_interval=0.3)
    await broker.connect()
    await broker.declare_queue(QUEUE)
    await broker.purge(QUEUE)
    yield broker
    await broker.close()


class AckFrames:
    """Counts the basic.ack frames consumers send (with how many used `multiple`)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.single = 0
        self.multiple = 0
        real = aio_pika.IncomingMessage.ack

        async def counted(message: aio_pika.IncomingMessage, multiple: bool = False) -> None:
            if multiple:
                self.multiple += 1
            else:
                self.single += 1
            await real(message, multiple=multiple)

        monkeypatch.setattr(aio_pika.IncomingMessage, "ack", counted)


def unacked(server: RabbitMQServer) -> tuple[int, int]:
    """(ready, unacknowledged) messages of the queue, as RabbitMQ counts them."""
    listing = server.ctl("list_queues", "name", "messages_ready", "messages_unacknowledged", "-q")
    for line in listing.splitlines():
        parts = line.split()
        if parts and parts[0] == QUEUE:
            return int(parts[1]), int(parts[2])
    raise AssertionError(f"{QUEUE} not listed: {listing}")


async def publish(rabbit: RabbitMQBroker, count: int) -> list[Message]:
    messages = [Message.new("acks.item", {"n": n}, "test") for n in range(count)]
    await rabbit.publish(messages, queue=QUEUE)
    return messages


async def test_a_batch_settled_together_is_acked_in_a_few_frames(
    rabbit: RabbitMQBroker, rabbitmq_server: RabbitMQServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    frames = AckFrames(monkeypatch)
    await publish(rabbit, 50)
    gate = asyncio.Event()
    received: list[Any] = []

    async def handler(delivery: Delivery) -> None:
        received.append(delivery.message.payload["n"])
        if len(received) == 50:
            gate.set()
        await gate.wait()  # the whole batch is settled at once, as the billing worker does

    consumer = await rabbit.consume(QUEUE, handler, prefetch=50)
    try:
        await eventually(lambda: _true(unacked(rabbitmq_server) == (0, 0)), timeout=20)
    finally:
        await consumer.stop()
    assert sorted(received) == list(range(50))
    assert frames.multiple >= 1
    assert frames.single + frames.multiple < 10


async def test_a_multiple_ack_never_covers_a_message_still_in_hand(
    rabbit: RabbitMQBroker, rabbitmq_server: RabbitMQServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    frames = AckFrames(monkeypatch)
    await publish(rabbit, 10)
    slow = asyncio.Event()
    done: list[int] = []

    async def handler(delivery: Delivery) -> None:
        n = delivery.message.payload["n"]
        if n == 3:
            await slow.wait()
        done.append(n)

    consumer = await rabbit.consume(QUEUE, handler, prefetch=10)
    try:
        # Every other message is acked while the fourth is still being handled.
        await eventually(lambda: _true(len(done) == 9 and unacked(rabbitmq_server) == (0, 1)))
        assert frames.single + frames.multiple >= 1
        slow.set()
        await eventually(lambda: _true(unacked(rabbitmq_server) == (0, 0)))
    finally:
        await consumer.stop()
    assert sorted(done) == list(range(10))


async def test_a_rejected_message_in_a_run_of_acks_is_dead_lettered_and_the_rest_acked(
    rabbit: RabbitMQBroker, rabbitmq_server: RabbitMQServer
) -> None:
    await publish(rabbit, 20)
    gate = asyncio.Event()
    seen: list[int] = []

    async def handler(delivery: Delivery) -> None:
        n = delivery.message.payload["n"]
        seen.append(n)
        if len(seen) == 20:
            gate.set()
        await gate.wait()
        if n == 7:
            raise ValueError("poison")

    consumer = await rabbit.consume(QUEUE, handler, prefetch=20)
    try:
        await eventually(lambda: _true(unacked(rabbitmq_server) == (0, 0)), timeout=20)
        await eventually(lambda: _depth_is(rabbit, f"{QUEUE}.dlq", 1))
    finally:
        await consumer.stop()
    assert sorted(seen) == list(range(20))  # nothing came back: each settled exactly once
    dead = await rabbit.get(f"{QUEUE}.dlq")
    assert dead is not None
    assert dead.message.payload == {"n": 7}
    await dead.ack()


async def _true(value: bool) -> bool:
    return value


async def _depth_is(rabbit: RabbitMQBroker, queue: str, depth: int) -> bool:
    return await rabbit.queue_depth(queue) == depth
