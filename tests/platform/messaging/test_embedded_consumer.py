"""Consumers of the embedded broker: handlers, retries, stopping, other processes."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from bandstand.platform.messaging import Delivery
from bandstand.platform.messaging.embedded import EmbeddedBroker
from bandstand.platform.messaging.embedded_consumer import RECHECK_SECONDS
from bandstand.platform.messaging.embedded_delivery import EmbeddedDelivery
from tests.platform.messaging.helpers import event, next_delivery
from tests.support.waiting import eventually


async def test_consume_acks_handled_messages_and_retries_failures(
    broker: EmbeddedBroker,
) -> None:
    handled: list[tuple[str, int]] = []

    async def handler(delivery: Delivery) -> None:
        if delivery.message.type == "work.item.flaky" and delivery.attempts == 1:
            raise RuntimeError("first attempt fails")
        handled.append((delivery.message.type, delivery.attempts))

    consumer = await broker.consume("work", handler, prefetch=4)
    try:
        await broker.publish(
            [event("work.item.a"), event("work.item.flaky"), event("work.item.b")], queue="work"
        )

        async def all_handled() -> bool:
            return len(handled) == 3

        await eventually(all_handled)
    finally:
        await consumer.stop()

    assert sorted(handled) == [("work.item.a", 1), ("work.item.b", 1), ("work.item.flaky", 2)]
    assert await broker.queue_depth("work") == 0
    assert await broker.get("work") is None


async def test_consumer_dead_letters_a_poison_message(broker: EmbeddedBroker) -> None:
    attempts: list[int] = []

    async def handler(delivery: Delivery) -> None:
        attempts.append(delivery.attempts)
        raise ValueError("poison")

    await broker.declare_queue("work")
    consumer = await broker.consume("work", handler)
    try:
        await broker.publish([event()], queue="work")

        async def dead_lettered() -> bool:
            return await broker.queue_depth("work.dlq") == 1

        await eventually(dead_lettered)
    finally:
        await consumer.stop()

    assert attempts == [1, 2, 3]


async def test_stop_lets_the_message_in_flight_finish(broker: EmbeddedBroker) -> None:
    started, finished = asyncio.Event(), asyncio.Event()

    async def slow(delivery: Delivery) -> None:
        started.set()
        await asyncio.sleep(0.2)
        finished.set()

    consumer = await broker.consume("work", slow)
    await broker.publish([event()], queue="work")
    await asyncio.wait_for(started.wait(), 5)

    await consumer.stop()

    assert finished.is_set()
    assert await broker.queue_depth("work") == 0
    await broker.publish([event()], queue="work")
    await asyncio.sleep(0.1)
    assert await broker.queue_depth("work") == 1  # stopped: nobody takes it


async def test_stop_after_grace_releases_the_message(broker: EmbeddedBroker) -> None:
    started = asyncio.Event()

    async def stuck(delivery: Delivery) -> None:
        started.set()
        await asyncio.sleep(60)

    consumer = await broker.consume("work", stuck)
    await broker.publish([event()], queue="work")
    await asyncio.wait_for(started.wait(), 5)

    await consumer.stop(grace=0.05)

    delivery = await next_delivery(broker, "work")
    assert delivery.attempts == 1  # released, not counted as a failure


async def test_a_handler_may_settle_the_delivery_itself(broker: EmbeddedBroker) -> None:
    async def handler(delivery: Delivery) -> None:
        await delivery.reject(requeue=False)

    consumer = await broker.consume("work", handler)
    try:
        await broker.publish([event()], queue="work")

        async def dead_lettered() -> bool:
            return await broker.queue_depth("work.dlq") == 1

        await eventually(dead_lettered)
    finally:
        await consumer.stop()


async def test_consumer_picks_up_messages_of_another_process(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    web, worker = EmbeddedBroker(path), EmbeddedBroker(path, poll_interval=0.02)
    received: list[str] = []

    async def handler(delivery: Delivery) -> None:
        received.append(delivery.message.type)

    consumer = await worker.consume("work", handler)
    try:
        await web.publish([event("work.item.remote")], queue="work")

        async def arrived() -> bool:
            return received == ["work.item.remote"]

        await eventually(arrived)
    finally:
        await consumer.stop()
        await web.close()
        await worker.close()


async def test_idle_polls_claim_only_once_the_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "shared.sqlite3"
    web, worker = EmbeddedBroker(path), EmbeddedBroker(path, poll_interval=0.02)
    await web.declare_queue("work")
    claims: list[float] = []
    claim = worker.claim

    async def counted(queue: str, limit: int) -> list[EmbeddedDelivery]:
        claims.append(time.monotonic())
        return await claim(queue, limit)

    monkeypatch.setattr(worker, "claim", counted)
    received: list[str] = []

    async def handler(delivery: Delivery) -> None:
        received.append(delivery.message.type)

    consumer = await worker.consume("work", handler)
    try:
        await asyncio.sleep(0.5)  # 25 polls of a file nothing writes
        assert 1 <= len(claims) <= 2
        published = time.monotonic()
        await web.publish([event("work.item.remote")], queue="work")

        async def arrived() -> bool:
            return received == ["work.item.remote"]

        await eventually(arrived)
        assert time.monotonic() - published < RECHECK_SECONDS  # seen by the file's marks
    finally:
        await consumer.stop()
        await web.close()
        await worker.close()


async def test_a_message_whose_consumer_died_is_claimed_when_its_lock_expires(
    tmp_path: Path,
) -> None:
    path = tmp_path / "shared.sqlite3"
    dead = EmbeddedBroker(path, visibility_timeout=0.3)
    worker = EmbeddedBroker(path, poll_interval=0.02)
    await dead.publish([event("work.item.orphan")], queue="work")
    assert await dead.get("work") is not None  # locked for 0.3 s, never settled
    received: list[int] = []

    async def handler(delivery: Delivery) -> None:
        received.append(delivery.attempts)

    consumer = await worker.consume("work", handler)
    try:

        async def arrived() -> bool:
            return received == [2]

        await eventually(arrived, timeout=RECHECK_SECONDS * 0.8)
    finally:
        await consumer.stop()
        await dead.close()
        await worker.close()


async def test_a_real_second_process_publishes_to_a_consumer_here(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    worker = EmbeddedBroker(path, poll_interval=0.02)
    await worker.declare_queue("audit", ["identity.#"])
    received: list[int] = []

    async def handler(delivery: Delivery) -> None:
        received.append(delivery.message.payload["n"])

    consumer = await worker.consume("audit", handler)
    script = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from bandstand.platform.messaging import Message\n"
        "from bandstand.platform.messaging.embedded import EmbeddedBroker\n"
        "async def main():\n"
        "    broker = EmbeddedBroker(Path(sys.argv[1]))\n"
        "    for n in range(20):\n"
        "        await broker.publish([Message.new('identity.user.seen', {'n': n}, 'web')])\n"
        "    await broker.close()\n"
        "asyncio.run(main())\n"
    )
    try:
        process = await asyncio.create_subprocess_exec(sys.executable, "-c", script, str(path))
        assert await asyncio.wait_for(process.wait(), 30) == 0

        async def all_arrived() -> bool:
            return len(received) == 20

        await eventually(all_arrived)
        assert sorted(received) == list(range(20))
    finally:
        await consumer.stop()
        await worker.close()


async def test_close_lets_consumers_finish_and_ack(tmp_path: Path) -> None:
    path = tmp_path / "b.sqlite3"
    broker = EmbeddedBroker(path, poll_interval=0.02)
    started = asyncio.Event()

    async def slow(delivery: Delivery) -> None:
        started.set()
        await asyncio.sleep(0.1)

    await broker.consume("work", slow)
    await broker.publish([event()], queue="work")
    await asyncio.wait_for(started.wait(), 5)

    await broker.close()

    with closing(sqlite3.connect(path)) as db:  # acked: gone, not merely locked
        assert db.execute("SELECT count(*) FROM messages").fetchone() == (0,)
