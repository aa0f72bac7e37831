"""PostgreSQL's plain reads keep their connections between them, and give them back to the pool
when another user of the pool would wait, when they idled, and when the engine is disposed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import event, text

from bandstand.platform import kept_readers
from bandstand.platform.database import Database
from bandstand.platform.plain_reads import engine_reader

pytestmark = pytest.mark.postgres


@pytest.fixture
async def database(postgres_url_factory: Callable[[str], str]) -> AsyncIterator[Database]:
    # One connection kept in the pool (and by the reads) and one more opened while a request
    # waits.
    database = Database(postgres_url_factory("kept_readers"), pool_size=1)
    yield database
    await database.dispose()


async def _backend(database: Database) -> int:
    async with database.session() as session, engine_reader(session) as driver:
        pid: int = await driver.fetchval("SELECT pg_backend_pid()")
        return pid


def _checked_out(database: Database) -> int:
    return int(database.engine.sync_engine.pool.checkedout())  # type: ignore[attr-defined]


def _checkouts(database: Database) -> list[object]:
    """Each checkout of the pool from now on."""
    seen: list[object] = []
    event.listen(database.engine.sync_engine.pool, "checkout", lambda *args: seen.append(args))
    return seen


async def test_reads_in_a_row_share_one_connection_kept_out_of_the_pool(
    database: Database,
) -> None:
    first = await _backend(database)
    assert _checked_out(database) == 1  # kept, not given back
    checkouts = _checkouts(database)
    assert await _backend(database) == first
    assert checkouts == []
    assert _checked_out(database) == 1


async def test_a_session_about_to_wait_for_the_pool_is_given_the_kept_connection(
    database: Database,
) -> None:
    kept = await _backend(database)
    async with database.session() as holding:
        await holding.execute(text("SELECT 1"))  # the pool's second connection
        async with database.session() as waiting:
            # The pool has nothing idle: the kept connection comes back to it at once, well
            # before the pool's timeout of 5 s.
            pid = await asyncio.wait_for(
                waiting.execute(text("SELECT pg_backend_pid()")), timeout=1
            )
            assert pid.scalar_one() == kept


async def test_a_connection_kept_idle_too_long_goes_back_to_the_pool(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _backend(database)
    monkeypatch.setattr(kept_readers, "PING_AFTER_IDLE_SECONDS", -1.0)
    checkouts = _checkouts(database)
    await _backend(database)  # given back, then checked out of the pool again
    assert len(checkouts) == 1
    assert _checked_out(database) == 1


async def test_disposing_the_engine_closes_the_kept_connections(
    postgres_url_factory: Callable[[str], str],
) -> None:
    url = postgres_url_factory("kept_readers_disposed")
    database = Database(url)
    kept = await _backend(database)
    await database.dispose()
    watcher = Database(url)
    try:
        async with watcher.engine.connect() as connection:
            for _ in range(50):
                found = await connection.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": kept}
                )
                if found.scalar_one() == 0:
                    break
                await asyncio.sleep(0.02)
            else:
                pytest.fail(f"backend {kept} still connected after the engine was disposed")
    finally:
        await watcher.dispose()


async def _held_read(database: Database, holding: asyncio.Event, release: asyncio.Event) -> int:
    """A read that keeps its connection until `release` is set."""
    async with database.session() as session, engine_reader(session) as driver:
        pid: int = await driver.fetchval("SELECT pg_backend_pid()")
        holding.set()
        await release.wait()
        return pid


async def test_a_read_beyond_the_kept_waits_for_one_given_back_not_for_the_pool(
    database: Database,
) -> None:
    holding, release = asyncio.Event(), asyncio.Event()
    first = asyncio.create_task(_held_read(database, holding, release))
    await holding.wait()
    checkouts = _checkouts(database)
    second = asyncio.create_task(_backend(database))
    await asyncio.sleep(0.05)
    assert not second.done()  # the pool has a connection to spare, but the read waits here
    release.set()
    assert await second == await first
    assert checkouts == []


async def test_a_read_that_waited_too_long_takes_its_turn_at_the_pool(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kept_readers, "WAIT_SECONDS", 0.05)
    holding, release = asyncio.Event(), asyncio.Event()
    first = asyncio.create_task(_held_read(database, holding, release))
    await holding.wait()
    other = await asyncio.wait_for(_backend(database), timeout=2)
    release.set()
    assert other != await first


async def test_a_failed_read_lets_the_waiting_read_through(database: Database) -> None:
    holding, release = asyncio.Event(), asyncio.Event()

    async def failing() -> None:
        async with database.session() as session, engine_reader(session) as driver:
            await driver.fetchval("SELECT 1")
            holding.set()
            await release.wait()
            raise RuntimeError("the read failed")

    first = asyncio.create_task(failing())
    await holding.wait()
    second = asyncio.create_task(_backend(database))
    await asyncio.sleep(0.05)
    release.set()
    with pytest.raises(RuntimeError):
        await first
    assert await asyncio.wait_for(second, timeout=2) > 0


async def test_a_waiting_read_cancelled_passes_on_what_it_was_handed(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    holding, release = asyncio.Event(), asyncio.Event()
    first = asyncio.create_task(_held_read(database, holding, release))
    await holding.wait()
    cancelled = asyncio.create_task(_backend(database))
    await asyncio.sleep(0.05)
    after = asyncio.create_task(_backend(database))
    await asyncio.sleep(0.05)
    give_back = kept_readers.KeptReaders.give_back

    async def give_back_then_cancel(self: kept_readers.KeptReaders, *args: Any) -> None:
        await give_back(self, *args)  # hands the connection to `cancelled`, which has not resumed
        cancelled.cancel()

    monkeypatch.setattr(kept_readers.KeptReaders, "give_back", give_back_then_cancel)
    release.set()
    pid = await first
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert await asyncio.wait_for(after, timeout=2) == pid


async def _gone(database: Database, pid: int) -> bool:
    """Whether backend `pid` has left the server (asked for up to a second)."""
    async with database.engine.connect() as connection:
        for _ in range(50):
            found = await connection.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            )
            if found.scalar_one() == 0:
                return True
            await asyncio.sleep(0.02)
    return False


async def test_a_read_s_connection_beyond_the_pool_s_size_is_closed_when_it_leaves(
    database: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async with database.session() as holding:
        await holding.execute(text("SELECT 1"))  # the one connection the pool keeps
        beyond = await _backend(database)  # opened beyond the pool's size, kept by the reads
    # The pool's own connection is idle in it again: the one kept by the reads has no room
    # there, and the pool closes it when it comes back, which awaits the driver.
    monkeypatch.setattr(kept_readers, "PING_AFTER_IDLE_SECONDS", -1.0)
    with caplog.at_level(logging.ERROR):
        assert await _backend(database) != beyond
    assert [record.getMessage() for record in caplog.records] == []
    assert await _gone(database, beyond), f"backend {beyond} still connected"
