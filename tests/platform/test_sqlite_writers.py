"""SQLite writers take turns on the event loop instead of meeting a locked database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, String, Table, insert, select, text

from bandstand.platform.database import Database, new_metadata

metadata = new_metadata()
log = Table(
    "log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("writer", String(20), nullable=False),
)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'writers.sqlite3'}")
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield database
    await database.dispose()


async def _warm_pool(database: Database, connections: int) -> None:
    """Open `connections` pooled connections without SQLite's busy handler: a writer that finds
    the database locked fails at once instead of sleeping and retrying."""
    opened = asyncio.Barrier(connections)

    async def hold() -> None:
        async with database.session() as session:
            await session.execute(text("PRAGMA busy_timeout=0"))
            await opened.wait()

    await asyncio.gather(*(hold() for _ in range(connections)))


async def test_concurrent_writers_never_meet_a_locked_database(database: Database) -> None:
    await _warm_pool(database, 12)
    asked: list[str] = []

    async def writer(name: str) -> None:
        async with database.session() as session:
            asked.append(name)
            await session.execute(insert(log).values(writer=name))
            # A request keeps its transaction open across event-loop turns until it responds.
            await asyncio.sleep(0.005)
            await session.commit()

    async with asyncio.timeout(30):
        await asyncio.gather(*(writer(f"w{index}") for index in range(12)))
    async with database.session() as session:
        committed = list((await session.execute(select(log.c.writer).order_by(log.c.id))).scalars())
    assert sorted(committed) == sorted(asked)


async def test_a_rolled_back_or_failed_writer_passes_the_turn_on(database: Database) -> None:
    async def fail() -> None:
        async with database.session() as session:
            await session.execute(insert(log).values(writer="failed"))
            raise RuntimeError("a bug")

    with pytest.raises(RuntimeError):
        await fail()
    async with database.session() as session:
        await session.execute(insert(log).values(writer="rolled back"))
        await session.rollback()
    async with asyncio.timeout(5), database.session() as session:
        await session.execute(insert(log).values(writer="next"))
        await session.commit()
    async with database.session() as session:
        rows = list((await session.execute(select(log.c.writer))).scalars())
    assert rows == ["next"]


async def test_readers_do_not_wait_for_a_writer(database: Database) -> None:
    async with database.session() as writing:
        await writing.execute(insert(log).values(writer="open"))
        async with asyncio.timeout(5), database.session() as reading:
            assert list((await reading.execute(select(log.c.writer))).scalars()) == []
        await writing.commit()
