"""How the kernel opens databases and keeps their connections."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError

import bandstand.platform.database as database_module
from bandstand.platform.database import SERVER_POOL_SIZE, SQLITE_POOL_SIZE, Database
from bandstand.platform.errors import is_unavailable


async def test_sqlite_connections_write_ahead(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'a.sqlite3'}")
    try:
        async with database.engine.connect() as connection:
            mode = (await connection.execute(text("PRAGMA journal_mode"))).scalar_one()
            timeout = (await connection.execute(text("PRAGMA busy_timeout"))).scalar_one()
        assert (mode, timeout) == ("wal", 10000)
    finally:
        await database.dispose()


async def _connections_opened(database: Database, at_once: int, rounds: int = 5) -> int:
    """How many connections `rounds` of `at_once` short reads at a time opened in all."""
    opened = 0

    def count_connect(*_args: object) -> None:
        nonlocal opened
        opened += 1

    event.listen(database.engine.sync_engine, "connect", count_connect)

    async def one_query() -> None:
        async with database.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            await asyncio.sleep(0.01)

    for _ in range(rounds):
        await asyncio.gather(*(one_query() for _ in range(at_once)))
    event.remove(database.engine.sync_engine, "connect", count_connect)
    return opened


async def test_concurrent_requests_reuse_sqlite_connections(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'b.sqlite3'}")
    try:
        # Sixteen at a time open sixteen connections once, not again on every round.
        assert await _connections_opened(database, 16) == 16 <= SQLITE_POOL_SIZE
    finally:
        await database.dispose()


async def _with_counted_pings(database: Database) -> list[int]:
    pings: list[int] = []
    dialect = database.engine.sync_engine.dialect
    ping = dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings.append(1)
        return ping(dbapi_connection)

    dialect.do_ping = counted  # type: ignore[method-assign]
    return pings


async def _backend_pid(database: Database) -> int:
    async with database.engine.connect() as connection:
        return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())


@pytest.mark.postgres
async def test_a_connection_in_steady_use_is_not_pinged(
    postgres_url_factory: Callable[[str], str],
) -> None:
    database = Database(postgres_url_factory("pings"), pool_size=1)
    try:
        await _backend_pid(database)  # opens the connection
        pings = await _with_counted_pings(database)
        for _ in range(5):
            await _backend_pid(database)
        assert pings == []
    finally:
        await database.dispose()


@pytest.mark.postgres
async def test_an_idle_connection_the_server_dropped_is_replaced_before_use(
    postgres_url_factory: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = postgres_url_factory("idle")
    database, other = Database(url, pool_size=1), Database(url)
    try:
        dropped = await _backend_pid(database)
        async with other.engine.connect() as connection:
            await connection.execute(text(f"SELECT pg_terminate_backend({dropped})"))
        pings = await _with_counted_pings(database)
        monkeypatch.setattr(database_module, "PING_AFTER_IDLE_SECONDS", -1.0)
        assert await _backend_pid(database) != dropped  # no error: replaced at checkout
        assert pings  # the dropped connection was pinged, then a new one
    finally:
        await database.dispose()
        await other.dispose()


@pytest.mark.postgres
async def test_a_connection_dropped_in_steady_use_fails_once_then_the_pool_recovers(
    postgres_url_factory: Callable[[str], str],
) -> None:
    url = postgres_url_factory("busy")
    database, other = Database(url, pool_size=1), Database(url)
    try:
        dropped = await _backend_pid(database)
        async with other.engine.connect() as connection:
            await connection.execute(text(f"SELECT pg_terminate_backend({dropped})"))
        with pytest.raises(DBAPIError) as failure:
            await _backend_pid(database)
        assert is_unavailable(failure.value)
        assert await _backend_pid(database) != dropped
    finally:
        await database.dispose()
        await other.dispose()


@pytest.mark.postgres
async def test_server_connections_are_kept_between_bursts(
    postgres_url_factory: Callable[[str], str],
) -> None:
    database = Database(postgres_url_factory("kept"))
    kept, more = SERVER_POOL_SIZE, SERVER_POOL_SIZE // 4
    try:
        # Kept between the rounds: none is closed on its way back and opened again.
        assert await _connections_opened(database, kept) == kept
        assert await _connections_opened(database, kept + more, rounds=1) == more  # while waiting
        assert await _connections_opened(database, 2 * kept, rounds=1) == more  # no more than that
    finally:
        await database.dispose()
