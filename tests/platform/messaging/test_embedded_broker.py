"""The embedded SQLite broker: routing, work queues, retries, dead letters, several processes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bandstand.platform.messaging import (
    BrokerUnavailable,
    Message,
    RetryPolicy,
    create_broker,
)
from bandstand.platform.messaging.embedded import EmbeddedBroker
from bandstand.platform.messaging.rabbitmq import RabbitMQBroker
from tests.platform.messaging.helpers import FAST_RETRY, event, next_delivery


async def drain(broker: EmbeddedBroker, queue: str) -> list[str]:
    """Ack every ready message of `queue`; their types."""
    types = []
    while (delivery := await broker.get(queue)) is not None:
        types.append(delivery.message.type)
        await delivery.ack()
    return types


async def test_topic_routing(broker: EmbeddedBroker) -> None:
    await broker.declare_queue("audit", ["identity.#"])
    await broker.declare_queue("erasure", ["*.user.*"])
    await broker.declare_queue("welcome", ["identity.user.registered"])

    await broker.publish(
        [
            event("identity.user.registered"),
            event("identity.role.granted"),
            event("music.user.deleted"),
            event("billing.order.paid"),
        ]
    )

    assert await drain(broker, "audit") == ["identity.user.registered", "identity.role.granted"]
    assert await drain(broker, "erasure") == ["identity.user.registered", "music.user.deleted"]
    assert await drain(broker, "welcome") == ["identity.user.registered"]


async def test_a_queue_bound_by_two_patterns_gets_one_copy(broker: EmbeddedBroker) -> None:
    await broker.declare_queue("audit", ["identity.#", "*.user.*"])

    await broker.publish([event("identity.user.registered")])

    assert await broker.queue_depth("audit") == 1


async def test_bindings_add_up_across_declarations(broker: EmbeddedBroker) -> None:
    await broker.declare_queue("audit", ["identity.#"])
    await broker.declare_queue("audit", ["music.#"])

    await broker.publish([event("identity.user.registered"), event("music.song.liked")])

    assert await broker.queue_depth("audit") == 2


async def test_work_queue_publish_get_ack(broker: EmbeddedBroker) -> None:
    order = Message.new("billing.order.placed", {"order_id": 12}, "billing")

    await broker.publish([order], queue="billing.orders")
    assert await broker.queue_depth("billing.orders") == 1

    delivery = await broker.get("billing.orders")
    assert delivery is not None
    assert delivery.message == order
    assert delivery.attempts == 1
    assert await broker.queue_depth("billing.orders") == 0  # in flight, not waiting
    await delivery.ack()

    assert await broker.get("billing.orders") is None
    assert await broker.queue_depth("billing.orders") == 0


async def test_work_queue_keeps_publication_order(broker: EmbeddedBroker) -> None:
    await broker.publish([event(f"work.item.n{i}") for i in range(5)], queue="work")

    assert await drain(broker, "work") == [f"work.item.n{i}" for i in range(5)]


async def test_peek_reads_the_ready_messages_in_order_and_leaves_them(
    broker: EmbeddedBroker,
) -> None:
    await broker.declare_queue("work")
    await broker.publish([event(f"work.item.n{i}") for i in range(4)], queue="work.dlq")
    await broker.publish_raw("work.dlq", b"<not json/>", message_id="raw-1")
    taken = await broker.get("work.dlq")  # locked: not ready, not seen
    assert taken is not None

    seen = await broker.peek("work.dlq", 3)
    assert [p.message.type for p in seen] == ["work.item.n1", "work.item.n2", "work.item.n3"]
    assert all(p.malformed is None and p.raw is None for p in seen)
    for _ in range(2):
        *_, parked = await broker.peek("work.dlq", 10)
        assert (parked.message.id, parked.raw) == ("raw-1", b"<not json/>")
        assert parked.malformed is not None
        assert "not JSON" in parked.malformed
    assert await broker.queue_depth("work.dlq") == 4
    await taken.release()
    again = await broker.get("work.dlq")
    assert again is not None
    assert (again.message.type, again.attempts) == ("work.item.n0", 1)
    assert await broker.peek("empty", 5) == []


async def test_reject_redelivers_after_back_off_counting_attempts(broker: EmbeddedBroker) -> None:
    await broker.publish([event()], queue="work")
    first = await broker.get("work")
    assert first is not None
    await first.reject(requeue=True)

    assert await broker.get("work") is None  # waiting for its back-off
    assert await broker.queue_depth("work") == 1
    await asyncio.sleep(FAST_RETRY.base_delay + 0.02)
    second = await broker.get("work")

    assert second is not None
    assert second.message == first.message
    assert second.attempts == 2


async def test_dead_letter_after_max_attempts(broker: EmbeddedBroker) -> None:
    await broker.declare_queue("work")
    await broker.publish([event()], queue="work")

    for attempt in range(1, FAST_RETRY.max_attempts + 1):
        delivery = await next_delivery(broker, "work")
        assert delivery.attempts == attempt
        await delivery.reject(requeue=True)

    await asyncio.sleep(FAST_RETRY.base_delay + 0.02)
    assert await broker.get("work") is None
    assert await broker.queue_depth("work") == 0
    dead = await broker.get("work.dlq")
    assert dead is not None
    assert dead.attempts == 1
    await dead.ack()


async def test_reject_without_requeue_dead_letters_at_once(broker: EmbeddedBroker) -> None:
    await broker.publish([event()], queue="work")
    delivery = await next_delivery(broker, "work")

    await delivery.reject(requeue=False)

    assert await broker.queue_depth("work") == 0
    assert await broker.queue_depth("work.dlq") == 1


async def test_without_dead_letter_queue_failed_messages_are_dropped(
    broker: EmbeddedBroker,
) -> None:
    await broker.declare_queue("transient", ["tick.#"], dead_letter=False)
    await broker.publish([event("tick.second")])

    delivery = await next_delivery(broker, "transient")
    await delivery.reject(requeue=False)

    assert await broker.queue_depth("transient") == 0
    assert await broker.queue_depth("transient.dlq") == 0


async def test_settling_twice_is_an_error(broker: EmbeddedBroker) -> None:
    await broker.publish([event()], queue="work")
    delivery = await next_delivery(broker, "work")
    await delivery.ack()

    with pytest.raises(RuntimeError, match="already"):
        await delivery.reject()


async def test_message_of_a_crashed_consumer_comes_back(tmp_path: Path) -> None:
    broker = EmbeddedBroker(tmp_path / "b.sqlite3", retry=FAST_RETRY, visibility_timeout=0.2)
    await broker.connect()
    try:
        await broker.publish([event()], queue="work")
        crashed = await next_delivery(broker, "work")  # never settled: its process "died"

        assert await broker.get("work") is None
        await asyncio.sleep(0.25)
        again = await next_delivery(broker, "work")
        assert again.message == crashed.message
        assert again.attempts == 2

        await crashed.ack()  # a late ack of the lost lock changes nothing
        assert await broker.queue_depth("work") == 0
        await again.ack()
        await asyncio.sleep(0.25)
        assert await broker.get("work") is None
    finally:
        await broker.close()


async def test_a_message_that_kills_every_consumer_is_dead_lettered(tmp_path: Path) -> None:
    retry = RetryPolicy(max_attempts=2, base_delay=0)
    broker = EmbeddedBroker(tmp_path / "b.sqlite3", retry=retry, visibility_timeout=0.05)
    await broker.connect()
    try:
        await broker.declare_queue("work")
        await broker.publish([event()], queue="work")
        for _ in range(retry.max_attempts):
            await next_delivery(broker, "work")
            await asyncio.sleep(0.06)

        assert await broker.get("work") is None
        assert await broker.queue_depth("work.dlq") == 1
    finally:
        await broker.close()


async def test_two_processes_share_bindings_and_messages(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    web, worker = EmbeddedBroker(path, poll_interval=0.02), EmbeddedBroker(path, poll_interval=0.02)
    await web.connect()
    await worker.connect()
    try:
        await worker.declare_queue("music.erasure", ["identity.user.deleted"])

        await web.publish([event("identity.user.deleted", user_id=3)])

        assert await web.queue_depth("music.erasure") == 1
        delivery = await next_delivery(worker, "music.erasure")
        assert delivery.message.payload == {"user_id": 3}
        await delivery.ack()
        assert await web.queue_depth("music.erasure") == 0
    finally:
        await web.close()
        await worker.close()


async def test_two_processes_never_get_the_same_message(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    first, second = EmbeddedBroker(path), EmbeddedBroker(path)
    await first.connect()
    await second.connect()
    try:
        sent = [event(f"work.item.n{i}") for i in range(60)]
        await first.publish(sent, queue="work")

        async def take_all(broker: EmbeddedBroker) -> list[str]:
            taken = []
            while (delivery := await broker.get("work")) is not None:
                taken.append(delivery.message.id)
                await delivery.ack()
            return taken

        got_first, got_second = await asyncio.gather(take_all(first), take_all(second))

        assert sorted(got_first + got_second) == sorted(message.id for message in sent)
    finally:
        await first.close()
        await second.close()


async def test_messages_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "b.sqlite3"
    broker = EmbeddedBroker(path)
    await broker.connect()
    await broker.declare_queue("audit", ["identity.#"])
    await broker.publish([event("identity.user.registered")])
    await broker.close()

    reopened = EmbeddedBroker(path)
    try:
        await reopened.connect()
        await reopened.publish([event("identity.user.deleted")])  # the binding survived too
        assert await drain(reopened, "audit") == [
            "identity.user.registered",
            "identity.user.deleted",
        ]
    finally:
        await reopened.close()


async def test_queue_depth_and_purge(broker: EmbeddedBroker) -> None:
    assert await broker.queue_depth("nothing.here") == 0
    await broker.publish([event(), event(), event()], queue="work")
    assert await broker.queue_depth("work") == 3

    await broker.purge("work")

    assert await broker.queue_depth("work") == 0
    assert await broker.get("work") is None


async def test_closed_broker_is_unavailable(tmp_path: Path) -> None:
    broker = EmbeddedBroker(tmp_path / "b.sqlite3")
    await broker.connect()
    await broker.ping()
    await broker.close()

    with pytest.raises(BrokerUnavailable):
        await broker.ping()
    with pytest.raises(BrokerUnavailable):
        await broker.publish([event()], queue="work")


async def test_unreadable_file_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "b.sqlite3"
    path.write_bytes(b"this is not a database" * 100)

    with pytest.raises(BrokerUnavailable):
        await EmbeddedBroker(path).connect()


def test_create_broker_by_url(tmp_path: Path) -> None:
    default = create_broker("embedded://", tmp_path)
    absolute = create_broker(f"embedded://{tmp_path / 'elsewhere.sqlite3'}", tmp_path)
    rabbit = create_broker("amqp://guest:guest@127.0.0.1:5672/", tmp_path)

    assert isinstance(default, EmbeddedBroker)
    assert default.path == tmp_path / "broker.sqlite3"
    assert isinstance(absolute, EmbeddedBroker)
    assert absolute.path == tmp_path / "elsewhere.sqlite3"
    assert isinstance(rabbit, RabbitMQBroker)
    with pytest.raises(ValueError, match="scheme"):
        create_broker("kafka://localhost", tmp_path)
