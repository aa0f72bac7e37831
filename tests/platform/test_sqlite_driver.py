"""SQLite through the kernel's adaptation of `sqlite3`: short reads on the event loop, the rest
one thread hop a statement, with the transactions the services had through aiosqlite (the
transaction tests run on PostgreSQL too, as the reference)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Column, Integer, String, Table, event, insert, select, text

from bandstand.platform import sqlite_driver
from bandstand.platform.database import Database, new_metadata
from bandstand.platform.settings import Settings
from bandstand.platform.sqlite_driver import (
    DRIVER,
    HOP_SECONDS,
    INLINE_BUDGET_SECONDS,
    MMAP_BYTES,
    read_row,
    thread_reader,
)
from tests.platform.sample_service import SampleBase
from tests.platform.test_service_app import build_app
from tests.support.client import api_client

metadata = new_metadata()
items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(20), nullable=False),
    Column("thread", Integer),
)
# Tens of millions of SQLite steps: far past the inline budget.
SLOW_READ = text(
    "SELECT thread_id(), (SELECT count(*) FROM (WITH RECURSIVE c(x) AS "
    "(SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000) SELECT x FROM c))"
)


@pytest.fixture
async def database(database_urls: Callable[[str], str]) -> AsyncIterator[Database]:
    database = Database(database_urls("driver"))
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield database
    await database.dispose()


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[Database]:
    """A SQLite database whose statements can say which thread ran them (`thread_id()`)."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'driver.sqlite3'}")

    @event.listens_for(database.sync_engine, "connect")
    def _register(connection: Any, _record: Any) -> None:
        connection.create_function("thread_id", 0, threading.get_ident)

    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield database
    await database.dispose()


async def test_sqlite_urls_use_the_kernel_driver(sqlite: Database) -> None:
    assert sqlite.engine.dialect.driver == DRIVER
    assert sqlite.url.startswith("sqlite+aiosqlite:")


async def test_reads_run_on_the_loop_and_writes_on_a_thread(sqlite: Database) -> None:
    loop_thread = threading.get_ident()
    async with sqlite.session() as session, session.begin():
        read = (await session.execute(text("SELECT thread_id()"))).scalar_one()
        await session.execute(
            insert(items).values(name="written", thread=text("thread_id()"))  # type: ignore[arg-type]
        )
        # Inside a write transaction a read goes to a thread too.
        in_transaction = (await session.execute(text("SELECT thread_id()"))).scalar_one()
    async with sqlite.session() as session:
        written = (await session.execute(select(items.c.thread))).scalar_one()
    assert read == loop_thread
    assert written != loop_thread
    assert in_transaction != loop_thread


async def test_a_slow_read_moves_off_the_loop(sqlite: Database) -> None:
    loop_thread = threading.get_ident()
    longest_gap = 0.0
    done = asyncio.Event()

    async def tick() -> None:
        nonlocal longest_gap
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0)
            now = time.perf_counter()
            longest_gap, last = max(longest_gap, now - last), now

    ticker = asyncio.create_task(tick())
    started = time.perf_counter()
    async with sqlite.session() as session:
        thread, count = (await session.execute(SLOW_READ)).one()
    took = time.perf_counter() - started
    done.set()
    await ticker
    assert count == 2_000_000
    assert thread != loop_thread
    # The loop was held for the budget and the time to interrupt, not for the whole read.
    assert took > 10 * INLINE_BUDGET_SECONDS
    assert longest_gap < took / 2


async def test_a_cancelled_statement_ends_before_its_connection_is_reused(
    tmp_path: Path,
) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'one.sqlite3'}", pool_size=1)
    database.engine.pool._pool.maxsize = 1  # type: ignore[attr-defined]
    database.engine.pool._max_overflow = 0  # type: ignore[attr-defined]

    @event.listens_for(database.sync_engine, "connect")
    def _register(connection: Any, _record: Any) -> None:
        connection.create_function("thread_id", 0, threading.get_ident)

    async def slow() -> None:
        async with database.session() as session:
            await session.execute(SLOW_READ)

    try:
        task = asyncio.create_task(slow())
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with database.session() as session:
            assert (await session.execute(text("SELECT 41 + 1"))).scalar_one() == 42
    finally:
        await database.dispose()


async def test_an_uncommitted_write_is_seen_by_its_own_transaction_only(
    database: Database,
) -> None:
    async with database.session() as writer, writer.begin():
        await writer.execute(insert(items).values(name="pending"))
        mine = (await writer.execute(select(items.c.name))).scalars().all()
        async with database.session() as reader:
            theirs = (await reader.execute(select(items.c.name))).scalars().all()
    assert mine == ["pending"]
    assert theirs == []
    async with database.session() as reader:
        assert (await reader.execute(select(items.c.name))).scalars().all() == ["pending"]


async def test_a_rollback_keeps_nothing(database: Database) -> None:
    async with database.session() as session:
        async with session.begin():
            await session.execute(insert(items).values(name="kept"))
        await session.execute(insert(items).values(name="dropped"))
        await session.rollback()
        names = (await session.execute(select(items.c.name))).scalars().all()
    assert names == ["kept"]


async def test_concurrent_readers_and_writers(database: Database) -> None:
    async def write(number: int) -> None:
        async with database.unit_of_work() as session:
            await session.execute(insert(items).values(name=f"item {number}"))

    async def read() -> int:
        async with database.session() as session:
            return len((await session.execute(select(items.c.id))).all())

    results = await asyncio.gather(*(write(n) if n % 2 else read() for n in range(40)))
    counts = [count for count in results if count is not None]
    assert all(0 <= count <= 20 for count in counts)
    assert await read() == 20


async def test_an_unreachable_sqlite_file_is_503_until_it_is_there(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    directory = tmp_path / "databases"
    url = f"sqlite+aiosqlite:///{directory / 'sample.sqlite3'}"
    app = build_app(make_settings(databases={"sample": url}))
    directory.rmdir()
    directory.write_text("not a directory")
    async with api_client(app) as http:
        response = await http.get("/api/v1/notes")
        assert response.status_code == 503
        assert "Database unavailable" in response.json()["detail"]
        directory.unlink()
        directory.mkdir()
        async with app.state.database.engine.begin() as connection:
            await connection.run_sync(SampleBase.metadata.create_all)
        assert (await http.post("/api/v1/notes", json={"text": "back"})).status_code == 201
        listed: httpx.Response = await http.get("/api/v1/notes")
        assert listed.status_code == 200
        assert [note["text"] for note in listed.json()["results"]] == ["back"]


def test_a_thread_reader_is_kept_per_file_and_opened_again_when_the_file_is_replaced(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "read.sqlite3")
    with sqlite3.connect(path) as writer:
        writer.execute("CREATE TABLE t (v)")
        writer.execute("INSERT INTO t VALUES ('first')")
    reader = thread_reader(path)
    assert thread_reader(path) is reader
    assert reader.execute("SELECT v FROM t").fetchall() == [("first",)]
    assert reader.execute("PRAGMA mmap_size").fetchone() == (MMAP_BYTES,)

    replaced = tmp_path / "replaced.sqlite3"
    with sqlite3.connect(replaced) as writer:
        writer.execute("CREATE TABLE t (v)")
        writer.execute("INSERT INTO t VALUES ('second')")
    os.replace(replaced, path)
    again = thread_reader(path)
    assert again is not reader
    assert again.execute("SELECT v FROM t").fetchall() == [("second",)]

    # Written since (its change time moved): perhaps another file on a reused inode number.
    time.sleep(0.01)
    with sqlite3.connect(path) as writer:
        writer.execute("INSERT INTO t VALUES ('third')")
    latest = thread_reader(path)
    assert latest is not again
    assert latest.execute("SELECT v FROM t ORDER BY rowid").fetchall() == [("second",), ("third",)]


def test_each_thread_has_its_own_reader(tmp_path: Path) -> None:
    path = str(tmp_path / "threads.sqlite3")
    sqlite3.connect(path).close()
    readers: list[sqlite3.Connection] = []
    thread = threading.Thread(target=lambda: readers.append(thread_reader(path)))
    thread.start()
    thread.join()
    assert readers[0] is not thread_reader(path)


@pytest.fixture
def reading_threads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The thread of each `thread_reader` call, in order."""
    threads: list[int] = []

    def reader(path: str) -> sqlite3.Connection:
        threads.append(threading.get_ident())
        return thread_reader(path)

    monkeypatch.setattr(sqlite_driver, "thread_reader", reader)
    return threads


async def test_a_short_read_row_runs_on_the_loop(
    tmp_path: Path, reading_threads: list[int]
) -> None:
    path = str(tmp_path / "rows.sqlite3")
    sqlite3.connect(path).close()
    assert await read_row(path, "SELECT ? + 1", [41]) == (42,)
    assert set(reading_threads) == {threading.get_ident()}


async def test_a_slow_statement_is_read_on_a_thread_until_it_is_quick_again(
    tmp_path: Path, reading_threads: list[int]
) -> None:
    path = str(tmp_path / "rows.sqlite3")
    sqlite3.connect(path).close()
    slow = str(SLOW_READ).replace("thread_id()", "1")
    loop = threading.get_ident()
    assert await read_row(path, slow, []) == (1, 2_000_000)
    assert reading_threads[0] == loop  # inline first, interrupted at the budget
    assert reading_threads[-1] != loop
    reading_threads.clear()
    assert await read_row(path, slow, []) == (1, 2_000_000)
    assert loop not in reading_threads  # straight to a thread
    # A statement that became quick comes back to the loop as its moving average falls.
    sqlite_driver._DURATIONS["SELECT 2"] = 100 * HOP_SECONDS
    reading_threads.clear()
    for _ in range(40):
        assert await read_row(path, "SELECT 2", []) == (2,)
    assert reading_threads[0] != loop
    assert reading_threads[-1] == loop


async def test_a_quick_statement_comes_back_to_the_loop_while_the_loop_is_busy(
    tmp_path: Path, reading_threads: list[int]
) -> None:
    """On a thread a read waits for the GIL while the loop holds it: that wait is not the
    statement's time, or a quick statement would stay off the loop for as long as the load."""
    path = str(tmp_path / "rows.sqlite3")
    sqlite3.connect(path).close()
    loop = threading.get_ident()

    def busy() -> None:
        until = time.perf_counter() + 0.02
        while time.perf_counter() < until:
            pass

    sqlite_driver._DURATIONS["SELECT 3"] = 100 * HOP_SECONDS
    for _ in range(40):
        reading_threads.clear()
        asyncio.get_running_loop().call_soon(busy)  # runs while the thread reads
        assert await read_row(path, "SELECT 3", []) == (3,)
    assert reading_threads == [loop]
