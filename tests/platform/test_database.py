"""How the kernel opens SQLite databases."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import event, text

from bandstand.platform.database import SQLITE_MMAP_BYTES, SQLITE_POOL_SIZE, Database


async def pragma(database: Database, name: str) -> int:
    async with database.engine.connect() as connection:
        return int((await connection.execute(text(f"PRAGMA {name}"))).scalar_one())


async def test_sqlite_reads_through_a_memory_map_unless_told_not_to(tmp_path: Path) -> None:
    serving = Database(f"sqlite+aiosqlite:///{tmp_path / 'a.sqlite3'}")
    importing = Database(f"sqlite+aiosqlite:///{tmp_path / 'a.sqlite3'}", sqlite_mmap_bytes=0)
    try:
        assert await pragma(serving, "mmap_size") == SQLITE_MMAP_BYTES
        assert await pragma(importing, "mmap_size") == 0
        async with serving.engine.connect() as connection:
            mode = (await connection.execute(text("PRAGMA journal_mode"))).scalar_one()
        assert mode == "wal"
    finally:
        await serving.dispose()
        await importing.dispose()


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
