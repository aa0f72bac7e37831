"""How the kernel opens SQLite databases."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import event, text

from bandstand.platform.database import SQLITE_POOL_SIZE, Database


async def test_sqlite_connections_write_ahead(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'a.sqlite3'}")
    try:
        async with database.engine.connect() as connection:
            mode = (await connection.execute(text("PRAGMA journal_mode"))).scalar_one()
            timeout = (await connection.execute(text("PRAGMA busy_timeout"))).scalar_one()
        assert (mode, timeout) == ("wal", 10000)
    finally:
        await database.dispose()


async def test_concurrent_requests_reuse_sqlite_connections(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'b.sqlite3'}")
    opened = 0

    def count_connect(*_args: object) -> None:
        nonlocal opened
        opened += 1

    event.listen(database.engine.sync_engine, "connect", count_connect)
    try:

        async def one_query() -> None:
            async with database.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
                await asyncio.sleep(0.01)

        for _ in range(5):
            await asyncio.gather(*(one_query() for _ in range(16)))
        # Sixteen at a time open sixteen connections once, not again on every round.
        assert opened == 16 <= SQLITE_POOL_SIZE
    finally:
        await database.dispose()
