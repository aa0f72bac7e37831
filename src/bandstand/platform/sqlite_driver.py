"""SQLite for the async engines without a thread hop per call: short reads run inline.

aiosqlite runs every call on the connection's own thread: a cursor, the statement, its rows
and closing the cursor are four hops a statement, each a wake-up of that thread and a handover
of the GIL back (measured: three quarters of the CPU of a signed-in list page of 50 songs).
Here `sqlite3` itself is the driver, behind SQLAlchemy's pysqlite dialect made asynchronous
(`sqlite+bandstand_inline`, which `Database` uses for every `sqlite+aiosqlite` URL):

- a read (SELECT, PRAGMA, EXPLAIN) outside a write transaction runs on the event loop, with all
  its rows, under a budget of `INLINE_BUDGET_SECONDS`: a read that takes longer is interrupted by
  SQLite's progress handler and runs again on a thread, so a slow scan does not hold the loop
  (reading again is safe: outside a transaction each statement reads its own snapshot);
- anything else (a write, which may wait for another process's lock, a commit, which may
  checkpoint and sync, a read inside a write transaction) runs on a thread: one hop a
  statement, with its rows.

A connection is used by one statement at a time: a task cancelled while its statement runs on
a thread waits for the statement to end before it gives up the connection.
"""

from __future__ import annotations

import asyncio
import collections
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL
from sqlalchemy.engine.interfaces import ConnectArgsType
from sqlalchemy.util.concurrency import await_, in_greenlet

from bandstand.platform.threads import ThreadPool, on_computing_thread

DRIVER = "bandstand_inline"
INLINE_BUDGET_SECONDS = 0.002
"""How long a read may hold the event loop before it moves to a thread."""
PROGRESS_STEPS = 1000
"""SQLite virtual machine steps between two looks at the clock (tens of microseconds)."""
_READS = ("SELECT", "PRAGMA", "EXPLAIN")
THREADS = 16
READERS_KEPT = 8
MMAP_BYTES = 1 << 30
"""How much of a database file a thread's reader maps into memory rather than reading each page
with a call: 50 listings read by id from 1,000,000 took 0.44 ms, 0.25 ms mapped. The pages are
the system's file cache, counted in the process's resident size once read (shared and given
back under pressure); the pool's connections do not map, so an import or a rebuild of an index,
which read the whole file, do not grow by it."""

T = TypeVar("T")


def is_read(statement: str) -> bool:
    return statement.lstrip()[:7].upper().startswith(_READS)


class InlineConnection(sqlite3.Connection):
    """A `sqlite3` connection whose slow work runs on a thread (see the module's docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.interrupted = False

    def cursor(self, factory: Any = None) -> InlineCursor:  # type: ignore[override]
        cursor: InlineCursor = super().cursor(factory or InlineCursor)  # type: ignore[arg-type,assignment]
        return cursor

    def commit(self) -> None:
        if self.in_transaction:
            off_loop(super().commit)

    def rollback(self) -> None:
        if self.in_transaction:
            off_loop(super().rollback)

    def close(self) -> None:
        off_loop(super().close)

    async def read_all(self, sql: str, parameters: Sequence[Any]) -> list[Any]:
        """Every row of the read `sql`, from a caller on the event loop that went around
        SQLAlchemy (`platform.plain_reads`): inline under the budget outside a write transaction,
        else on a thread."""

        def run() -> list[Any]:
            return sqlite3.Connection.execute(self, sql, parameters).fetchall()

        if not self.in_transaction:
            try:
                return self.inline(run)
            except sqlite3.OperationalError:
                if not self.interrupted:
                    raise
        return await on_thread(run)

    def inline(self, work: Callable[[], T]) -> T:
        """Run `work` here unless it outlasts the budget (`sqlite3.OperationalError`, with
        `interrupted` set)."""
        budget = _Budget()
        try:
            return budget.run(self, work)
        finally:
            self.interrupted = budget.passed


class _Budget:
    """`INLINE_BUDGET_SECONDS` from now, watched by SQLite's progress handler."""

    def __init__(self) -> None:
        self.deadline = time.perf_counter() + INLINE_BUDGET_SECONDS
        self.passed = False

    def run(self, connection: sqlite3.Connection, work: Callable[[], T]) -> T:
        """`work` on `connection`, interrupted (`sqlite3.OperationalError`, `passed` set) if it
        outlasts the budget."""
        connection.set_progress_handler(self._past_deadline, PROGRESS_STEPS)
        try:
            return work()
        finally:
            # Off the loop a statement runs without the handler: it would take the GIL back
            # every few thousand steps.
            connection.set_progress_handler(None, 0)

    def _past_deadline(self) -> int:
        if time.perf_counter() > self.deadline:
            self.passed = True
            return 1
        return 0


async def read_row(path: str, sql: str, parameters: Sequence[Any]) -> Any:
    """The first row of the read `sql` on the database file at `path`, on the calling thread's
    own connection (`thread_reader`), outside a transaction (each statement reads its own
    snapshot there).

    A short read runs inline on the event loop, under the budget, where it costs less than the
    hop to a thread and back (about 0.2 ms of CPU on a 2-vCPU virtual machine: a signed-in song
    page of 0.25 ms served 1,490 a second inline against 1,310 on a thread). A read whose
    statement has lately taken longer than `HOP_SECONDS` (or outlasted the budget) runs on a
    computing thread, while the loop serves others: a song search of about 0.7 ms served 1,290
    a second so against 960 inline.

    A read's time is the CPU its thread spent on it: on a computing thread, under load, the time
    it waits for the GIL back after SQLite (up to the switch interval while the loop holds it)
    would count too, and keep a short statement off the loop for as long as the load lasts. A
    read slow for want of pages in memory is caught by the budget instead."""

    def read(reader: sqlite3.Connection | None = None) -> Any:
        started = time.thread_time()
        cursor = sqlite3.Cursor(reader or thread_reader(path))
        row = cursor.execute(sql, parameters).fetchone()
        _took(sql, time.thread_time() - started)
        return row

    if _DURATIONS.get(sql, 0.0) > HOP_SECONDS:
        return await on_computing_thread(read)
    # The requests ready before this one go first: their reads then follow each other, and
    # the loop's reading and writing of sockets is not held behind a queue of inline reads
    # (measured at 32 connections: p99 121 -> 47 ms, and 7% more requests a second).
    await asyncio.sleep(0)
    budget = _Budget()
    reader = thread_reader(path)
    try:
        return budget.run(reader, lambda: read(reader))
    except sqlite3.OperationalError:
        if not budget.passed:
            raise
    _took(sql, INLINE_BUDGET_SECONDS)
    return await on_computing_thread(read)


HOP_SECONDS = 0.0005
DURATIONS_KEPT = 4096
_DURATIONS: dict[str, float] = {}
"""Each statement's recent time (a moving average, its latest read weighing a fifth)."""


def _took(sql: str, seconds: float) -> None:
    if len(_DURATIONS) >= DURATIONS_KEPT:
        _DURATIONS.clear()
    _DURATIONS[sql] = 0.8 * _DURATIONS.get(sql, seconds) + 0.2 * seconds


class InlineCursor(sqlite3.Cursor):
    """Runs a statement and fetches all its rows in one go, inline or on a thread."""

    def __init__(self, connection: InlineConnection) -> None:
        super().__init__(connection)
        self._rows: collections.deque[Any] = collections.deque()

    def execute(self, sql: str, parameters: Any = (), /) -> InlineCursor:
        connection: InlineConnection = self.connection  # type: ignore[assignment]

        def run() -> InlineCursor:
            sqlite3.Cursor.execute(self, sql, parameters)
            self._rows = collections.deque(
                sqlite3.Cursor.fetchall(self) if self.description is not None else ()
            )
            return self

        if in_greenlet() and is_read(sql) and not connection.in_transaction:
            try:
                # Run from the task awaiting the statement rather than in SQLAlchemy's greenlet:
                # the same place, and the async engine sees the statement awaited.
                result: InlineCursor = await_(_now(lambda: connection.inline(run)))
                return result
            except sqlite3.OperationalError:
                if not connection.interrupted:
                    raise
        return off_loop(run)

    def executemany(self, sql: str, parameters: Any, /) -> InlineCursor:
        def run() -> InlineCursor:
            sqlite3.Cursor.executemany(self, sql, parameters)
            self._rows = collections.deque()
            return self

        return off_loop(run)

    def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    def fetchmany(self, size: int | None = None) -> list[Any]:
        count = min(self.arraysize if size is None else size, len(self._rows))
        return [self._rows.popleft() for _ in range(count)]

    def fetchall(self) -> list[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows

    def __iter__(self) -> Iterator[Any]:  # type: ignore[override]
        while self._rows:
            yield self._rows.popleft()

    def close(self) -> None:
        self._rows.clear()
        super().close()

    async def _async_soft_close(self) -> None:
        """What SQLAlchemy's async layer calls on a result it hands on unread: the rows are
        here already, nothing waits on a thread."""


def thread_reader(path: str) -> sqlite3.Connection:
    """The calling thread's own connection for reading the database file at `path`, opened by
    its first read there: for reads that run on a thread from start to end (one hop, and no
    connection of the pool checked out and handed back on the event loop). Each read outside a
    transaction sees its own snapshot, as on any connection.

    The connection is opened again when the file at `path` may be another one: another device or
    inode, or a change time other than when it was opened (a replaced file can reuse a freed
    inode number; a checkpoint also changes the time, and costs only a reopen). A thread keeps at
    most `READERS_KEPT` files open."""
    readers: dict[str, tuple[tuple[int, int, int], sqlite3.Connection]] = (
        _READERS.__dict__.setdefault("open", {})
    )
    found = os.stat(path)
    identity = (found.st_dev, found.st_ino, found.st_ctime_ns)
    kept = readers.pop(path, None)
    if kept is not None:
        if kept[0] == identity:
            readers[path] = kept
            return kept[1]
        kept[1].close()
    if len(readers) >= READERS_KEPT:
        for _, reader in readers.values():
            reader.close()
        readers.clear()
    reader = open_reader(path)
    readers[path] = (identity, reader)
    return reader


def open_reader(path: str) -> sqlite3.Connection:
    """A connection for reading the database file at `path`, from any thread."""
    reader = sqlite3.connect(path, check_same_thread=False)
    reader.execute("PRAGMA busy_timeout=10000")
    reader.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
    return reader


_READERS = threading.local()


def off_loop(work: Callable[[], T]) -> T:
    """`work` on a thread while the event loop goes on (inline outside the async engine)."""
    if not in_greenlet():
        return work()
    result: T = await_(on_thread(work))
    return result


async def _now(work: Callable[[], T]) -> T:
    return work()


_THREADS = ThreadPool(THREADS, "sqlite")


async def on_thread(work: Callable[[], T]) -> T:
    """`work` on one of the driver's threads (a connection it uses stays its own until it ends,
    even when the caller is cancelled)."""
    return await _THREADS.run(work)


class SQLiteDialect_inline(SQLiteDialect_pysqlite):
    """pysqlite, asynchronous: `sqlite3` with the connection and cursor above."""

    driver = DRIVER
    is_async = True
    supports_statement_cache = True

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        return pool.AsyncAdaptedQueuePool if cls._is_url_file_db(url) else pool.StaticPool

    def create_connect_args(self, url: URL) -> ConnectArgsType:
        args, options = super().create_connect_args(url)
        options["factory"] = InlineConnection
        options["check_same_thread"] = False  # a connection's statements run on any thread
        return args, options


registry.register(f"sqlite.{DRIVER}", __name__, "SQLiteDialect_inline")


def inline_url(url: str) -> str:
    """The URL of the same database through this driver."""
    return url.replace("sqlite+aiosqlite:", f"sqlite+{DRIVER}:", 1)
