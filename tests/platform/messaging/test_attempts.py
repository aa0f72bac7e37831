"""Delivery attempts mean the same in every broker: a failure counts, a consumer gone with the
message (its process died, its connection was lost) counts, a release does not, and after the
policy's `max_attempts` the message is in the dead-letter queue.

A consumer "dies" by taking a message and closing its broker without settling it: RabbitMQ
puts the message back at once (flagged redelivered), the embedded broker when the lock expires.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bandstand.platform.messaging import Broker, Delivery, RetryPolicy, create_broker
from tests.platform.messaging.helpers import event, next_delivery
from tests.support.waiting import eventually

RETRY = RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.05)

BrokerFactory = Callable[[], Broker]


@pytest.fixture(params=["embedded", pytest.param("rabbitmq", marks=pytest.mark.rabbitmq)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "embedded":
        # The message of a consumer that died comes back when its lock expires.
        return f"embedded://{tmp_path / 'broker.sqlite3'}?visibility_timeout=0.2"
    rabbitmq_url: str = request.getfixturevalue("rabbitmq_url")
    return rabbitmq_url


@pytest.fixture
async def brokers(url: str, tmp_path: Path) -> AsyncIterator[BrokerFactory]:
    """Makes brokers on the same store (processes of one installation); closes them at the end."""
    made: list[Broker] = []

    def make() -> Broker:
        broker = create_broker(url, tmp_path, retry=RETRY)
        made.append(broker)
        return broker

    yield make
    for broker in made:
        await broker.close()


async def die_with_a_message(make: BrokerFactory, queue: str) -> Delivery:
    """A consumer takes the next message of `queue` and its process dies before settling it."""
    dying = make()
    await dying.connect()
    delivery = await next_delivery(dying, queue)
    await dying.close()
    return delivery


async def test_a_consumer_gone_with_the_message_counts_an_attempt(
    brokers: BrokerFactory,
) -> None:
    broker = brokers()
    await broker.declare_queue("work")
    await broker.publish([event()], queue="work")

    crashed = await die_with_a_message(brokers, "work")
    assert crashed.attempts == 1

    again = await next_delivery(broker, "work")
    assert again.message == crashed.message
    assert again.attempts == 2
    await again.ack()


async def test_a_message_that_kills_every_consumer_is_dead_lettered_after_max_attempts(
    brokers: BrokerFactory,
) -> None:
    broker = brokers()
    await broker.declare_queue("work")
    message = event()
    await broker.publish([message], queue="work")

    seen = [(await die_with_a_message(brokers, "work")).attempts for _ in range(RETRY.max_attempts)]
    assert seen == [1, 2, 3]

    async def dead_lettered() -> bool:
        # Someone has to look: the message is dead-lettered instead of handed out.
        assert await broker.get("work") is None
        return await broker.queue_depth("work.dlq") == 1

    await eventually(dead_lettered, timeout=10)
    dead = await next_delivery(broker, "work.dlq")
    assert dead.message == message
    await dead.ack()


async def test_failures_and_crashes_add_up(brokers: BrokerFactory) -> None:
    broker = brokers()
    await broker.declare_queue("work")
    await broker.publish([event()], queue="work")

    first = await next_delivery(broker, "work")
    await first.reject()  # a failure: retried after the back-off
    crashed = await die_with_a_message(brokers, "work")
    assert crashed.attempts == 2

    last = await next_delivery(broker, "work")
    assert last.attempts == 3
    await last.reject()  # the last attempt failed too
    dead = await next_delivery(broker, "work.dlq")
    assert dead.message == first.message


async def test_a_released_message_does_not_count(brokers: BrokerFactory) -> None:
    broker = brokers()
    await broker.declare_queue("work")
    await broker.publish([event()], queue="work")

    for _ in range(RETRY.max_attempts + 1):
        delivery = await next_delivery(broker, "work")
        assert delivery.attempts == 1
        await delivery.release()
    assert await broker.queue_depth("work.dlq") == 0


async def test_a_consumer_stopped_gracefully_counts_nothing(brokers: BrokerFactory) -> None:
    broker = brokers()
    await broker.declare_queue("work")
    await broker.publish([event()], queue="work")
    started = asyncio.Event()

    async def stuck(delivery: Delivery) -> None:
        started.set()
        await asyncio.Event().wait()

    consumer = await broker.consume("work", stuck)
    async with asyncio.timeout(10):
        await started.wait()
    await consumer.stop(grace=0.05)  # the handler is cancelled and its message released

    again = await next_delivery(broker, "work")
    assert again.attempts == 1
