"""Async SQLAlchemy engines, sessions and the unit of work of every service."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, Table, event, exc, text
from sqlalchemy.engine import Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import ConnectionPoolEntry

from bandstand.platform.after_commit import (
    OPERATIONS,
    WATCHES,
    AfterCommit,
    CommitWatch,
    WatchedSession,
)
from bandstand.platform.fair_pool import FairAsyncPool
from bandstand.platform.plan_modes import CUSTOM, plan_custom_statements
from bandstand.platform.read_only import watch_writes
from bandstand.platform.sqlite_driver import inline_url
from bandstand.platform.sqlite_writers import SQLiteWriterQueue

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_POOL_SIZE = 32
"""Connections a SQLite database keeps open: each is a thread and a 2 MiB page cache."""
SERVER_POOL_SIZE = 8
"""Connections a service keeps to its database server (PostgreSQL), and a quarter as many more
while requests wait: 10 at most. Each busy connection is a server process on the same cores as
the service: 16 kept (20 at most) had a signed-in song search at 1,036-1,098 a second, p99
110-120 ms, against 1,342-1,479 and 30-35 ms with 8 (the list: p99 43-96 against 22-27 ms at
about the same rate; billing end to end 1,303 against 1,366 orders a second). Connections past
those kept are closed when they come back: under load they came and went on every burst (10 kept
and 10 more: 8% fewer searches a second than 16 kept), hence a quarter more at most."""
PING_AFTER_IDLE_SECONDS = 1.0
"""A server connection unused for longer is checked before use (see `Database`)."""
_LAST_USED = "bandstand_last_used"


def new_metadata() -> MetaData:
    """A MetaData with the naming convention every service uses."""
    return MetaData(naming_convention=NAMING_CONVENTION)


class ServiceBase(DeclarativeBase):
    """Base of a service's models; subclass once per service with `metadata = new_metadata()`."""

    __abstract__ = True


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in (
        "PRAGMA journal_mode=WAL",
        "PRAGMA foreign_keys=ON",
        "PRAGMA busy_timeout=10000",
        "PRAGMA synchronous=NORMAL",
    ):
        cursor.execute(pragma)
    cursor.close()


class Database:
    """One service's engine and session factory."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int | None = None,
        echo: bool = False,
        pre_ping: bool = True,
    ) -> None:
        """A server's connection (PostgreSQL) that waited in the pool for longer than
        `PING_AFTER_IDLE_SECONDS` is pinged before use, and replaced if the server dropped it;
        one in steady use is not (asyncpg's ping is three round trips: it would double those
        of a small read). A connection the server dropped while in steady use fails its next
        statement, which answers 503 and has the pool replace every connection it held.
        `pre_ping=False`: never ping, for callers that retry on an unavailable database anyway,
        such as workers. `pool_size`: connections kept (by default `SQLITE_POOL_SIZE` on
        SQLite, `SERVER_POOL_SIZE` on a server), and more opened while requests wait for them (as
        many on SQLite, a quarter as many on a server); past those, requests wait in turn
        (`fair_pool`), 5 s at most on a server."""
        self.url = url
        self.is_sqlite = is_sqlite(url)
        engine_options: dict[str, Any] = {"echo": echo}
        if ":memory:" not in url:
            engine_options["poolclass"] = FairAsyncPool
        if self.is_sqlite:
            # A file does not drop connections: no ping (a thread hop per checkout) needed.
            _ensure_sqlite_directory(url)
            if ":memory:" not in url:
                # Keep as many connections as requests run at once: past the pool's size each
                # overflow connection is closed when returned, and the next one opened anew
                # costs a thread, the file and its pragmas (measured: 500 new connections in
                # 800 list requests at 16 at a time, a third of their CPU).
                size = pool_size or SQLITE_POOL_SIZE
                engine_options.update(pool_size=size, max_overflow=size)
        else:
            size = pool_size or SERVER_POOL_SIZE
            engine_options.update(pool_size=size, max_overflow=max(1, size // 4), pool_timeout=5)
            if "+asyncpg" in url:
                # asyncpg prepares every statement once per connection, and PostgreSQL soon
                # swaps its plans for a generic one, planned for the sizes the tables had then:
                # a service that started empty kept sequential scans of tables grown large
                # (measured: 8 ms instead of 1 ms to mark 100 outbox rows). A plan per execution
                # costs tens of microseconds and follows the data.
                # A page whose plan no value changes is planned once (`platform.plan_modes`).
                # No JIT: a generic plan costs a page's limit as a tenth of the table, and past
                # `jit_above_cost` the server compiled it (measured: a movie page of 50 rows with
                # their genres, 6 ms of compiling for 0.3 ms of reading).
                settings = {"plan_cache_mode": CUSTOM, "jit": "off"}
                engine_options["connect_args"] = {"server_settings": settings}
        # SQLite through the kernel's own adaptation of `sqlite3` (`platform.sqlite_driver`):
        # short reads inline, the rest one thread hop a statement.
        engine_url = inline_url(url) if self.is_sqlite else url
        self.engine: AsyncEngine = create_async_engine(engine_url, **engine_options)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            SQLiteWriterQueue(self.engine)
        else:
            if "+asyncpg" in url:
                plan_custom_statements(self.engine)
            if pre_ping:
                _ping_when_idle(self.engine)
        watch_writes(self.engine)
        self._watches: list[CommitWatch] = []
        self.sessionmaker = async_sessionmaker(
            self.engine,
            expire_on_commit=False,
            autoflush=False,
            sync_session_class=WatchedSession,
            info={WATCHES: self._watches},
        )

    @property
    def sync_engine(self) -> Engine:
        return self.engine.sync_engine

    def session(self) -> AsyncSession:
        return self.sessionmaker()

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed when the block ends, rolled back if it
        raises. Its after-commit work (`platform.after_commit`) runs with the commit."""
        async with self.session() as session, session.begin():
            yield session

    def after_commit_of(
        self,
        table: Table | str | None,
        callback: AfterCommit,
        *,
        operations: Collection[str] = OPERATIONS,
        ignored: Collection[str] = (),
    ) -> None:
        """Run `callback` after every committed transaction of this database that did one of
        `operations` ("insert", "update", "delete") on `table`; with None, on any table but
        those named in `ignored`."""
        unknown = set(operations) - OPERATIONS
        if unknown:
            raise ValueError(f"unknown operations: {sorted(unknown)}")
        name = table if table is None or isinstance(table, str) else table.name
        self._watches.append(CommitWatch(name, callback, frozenset(operations), frozenset(ignored)))

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def _ping_when_idle(engine: AsyncEngine) -> None:
    pool = engine.sync_engine.pool
    dialect = engine.sync_engine.dialect

    def used(_dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        record.info[_LAST_USED] = time.monotonic()

    def checkout(
        dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry, _proxy: Any
    ) -> None:
        if time.monotonic() - record.info.get(_LAST_USED, 0.0) <= PING_AFTER_IDLE_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool replaces this connection and checks out another.
            raise exc.DisconnectionError(f"connection lost while idle: {error}") from error

    event.listen(pool, "connect", used)
    event.listen(pool, "checkin", used)
    event.listen(pool, "checkout", checkout)


def _ensure_sqlite_directory(url: str) -> None:
    _, _, path = url.partition(":///")
    if path and path != ":memory:" and not path.startswith("file:"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
