"""The connection pool serves waiting requests in the order they asked: a connection coming back
goes to the longest waiter, never to a request that asked after it, and a waiter that gives up
or is cancelled loses nobody a connection."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.util.concurrency import greenlet_spawn
from sqlalchemy.util.queue import Empty

from bandstand.platform.database import Database
from bandstand.platform.fair_pool import FairAsyncPool, FairQueue


async def _waiting(queue: FairQueue[str], name: str, taken: list[tuple[str, str]]) -> None:
    item = await greenlet_spawn(queue.get, True, 5.0)
    taken.append((name, item))


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_returned_connection_goes_to_the_longest_waiter() -> None:
    queue: FairQueue[str] = FairQueue()
    taken: list[tuple[str, str]] = []
    first = asyncio.create_task(_waiting(queue, "first", taken))
    await _settle()
    second = asyncio.create_task(_waiting(queue, "second", taken))
    await _settle()

    queue.put_nowait("a")
    # A request asking now, before the first waiter has run, finds nothing to take.
    with pytest.raises(Empty):
        queue.get(block=False)
    queue.put_nowait("b")
    await asyncio.gather(first, second)
    assert taken == [("first", "a"), ("second", "b")]
    assert queue.empty()


async def test_with_nobody_waiting_a_connection_is_kept_idle() -> None:
    queue: FairQueue[str] = FairQueue()
    queue.put_nowait("a")
    assert await greenlet_spawn(queue.get, True, 1.0) == "a"


async def test_a_waiter_that_times_out_takes_nothing_with_it() -> None:
    queue: FairQueue[str] = FairQueue()
    with pytest.raises(Empty):
        await greenlet_spawn(queue.get, True, 0.05)
    queue.put_nowait("a")
    assert queue.get(block=False) == "a"


async def test_a_waiter_cancelled_after_the_handover_passes_the_connection_on() -> None:
    queue: FairQueue[str] = FairQueue()
    taken: list[tuple[str, str]] = []
    cancelled = asyncio.create_task(_waiting(queue, "cancelled", taken))
    await _settle()
    after = asyncio.create_task(_waiting(queue, "after", taken))
    await _settle()

    queue.put_nowait("a")
    cancelled.cancel()  # before it ran with its connection
    await asyncio.gather(cancelled, return_exceptions=True)
    await after
    assert taken == [("after", "a")]


async def test_connections_beyond_the_pool_are_served_first_come_first_served(
    database_urls: Callable[[str], str],
) -> None:
    database = Database(database_urls("fair"), pool_size=1)  # and as many overflowing
    assert isinstance(database.engine.sync_engine.pool, FairAsyncPool)
    served: list[int] = []
    release = asyncio.Event()

    async def holding() -> None:
        async with database.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            await release.wait()

    async def reading(n: int) -> None:
        async with database.engine.connect() as connection:
            served.append(n)
            await connection.execute(text("SELECT 1"))

    try:
        holders = [asyncio.create_task(holding()) for _ in range(2)]
        await asyncio.sleep(0.2)
        readers = []
        for n in range(6):
            readers.append(asyncio.create_task(reading(n)))
            await asyncio.sleep(0.02)  # each asks after the one before
        assert served == []  # both connections are held: every reader waits
        release.set()
        await asyncio.gather(*holders, *readers)
        assert served == list(range(6))
    finally:
        await database.dispose()


@pytest.mark.postgres
async def test_a_connection_beyond_the_pool_handed_to_a_cancelled_waiter_is_closed(
    postgres_url_factory: Callable[[str], str],
) -> None:
    database = Database(postgres_url_factory("fair_cancelled"), pool_size=1)  # and one more
    pool = database.engine.sync_engine.pool
    try:
        kept = await greenlet_spawn(pool.connect)
        beyond = await greenlet_spawn(pool.connect)
        waiting = asyncio.create_task(greenlet_spawn(pool.connect))
        await _settle()
        await greenlet_spawn(beyond.close)  # handed to the waiter, which has not run yet
        waiting.cancel()
        await greenlet_spawn(kept.close)  # nobody waits: idle in the pool, which is full
        with pytest.raises(asyncio.CancelledError):
            await waiting
        # The connection beyond the pool's size was closed, not lost to the pool's count.
        assert pool.checkedout() == 0  # type: ignore[attr-defined]
        assert pool.overflow() == 0  # type: ignore[attr-defined]
    finally:
        await database.dispose()
