"""The upkeep of SQLite's trigram indexes: an index written by many statements has many segments,
and is merged into one without changing what a search finds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Integer, Text, insert, select, update
from sqlalchemy.orm import Mapped, mapped_column

from bandstand.platform.database import Database, ServiceBase, new_metadata
from bandstand.platform.text_index import trigram_index, trigram_table
from bandstand.platform.text_index_upkeep import TextIndexUpkeep, compact, segments
from bandstand.platform.text_search import contains

FTS = trigram_table("verses", "line")


class UpkeepBase(ServiceBase):
    __abstract__ = True
    metadata = new_metadata()


class Verse(UpkeepBase):
    __tablename__ = "verses"
    __table_args__ = (trigram_index("ix_verses_line_trgm", "line"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line: Mapped[str] = mapped_column(Text)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'verses.sqlite3'}")
    async with database.engine.begin() as connection:
        await connection.run_sync(UpkeepBase.metadata.create_all)
    yield database
    await database.dispose()


async def write_in_many_transactions(database: Database, transactions: int) -> None:
    for number in range(transactions):
        async with database.engine.begin() as connection:
            lines = [{"line": f"corazon {number} verse {row}"} for row in range(20)]
            await connection.execute(insert(Verse), lines)
            if number % 3 == 0:
                await connection.execute(
                    update(Verse).where(Verse.id == number + 1).values(line="changed line")
                )


async def found(database: Database, term: str) -> list[int]:
    async with database.session() as session:
        statement = select(Verse.id).where(contains(Verse.line, term)).order_by(Verse.id)
        return list((await session.execute(statement)).scalars())


async def test_an_index_written_by_many_statements_is_merged_into_one_segment(
    database: Database,
) -> None:
    await write_in_many_transactions(database, 12)
    assert await segments(database.engine, FTS) > 1
    before = {term: await found(database, term) for term in ("corazon", "verse 1", "changed")}

    merged = await compact(database.engine)

    assert merged[FTS] >= 1
    assert await segments(database.engine, FTS) == 1
    after = {term: await found(database, term) for term in before}
    assert after == before
    assert len(after["corazon"]) == 12 * 20 - 4
    assert await compact(database.engine) == {}, "one segment is left alone"


async def test_an_index_in_one_segment_is_left_alone(database: Database) -> None:
    async with database.engine.begin() as connection:
        # One statement: FTS5 starts a segment at each statement that writes to it.
        await connection.execute(insert(Verse).values([{"line": f"v {row}"} for row in range(50)]))
    assert await segments(database.engine, FTS) == 1
    assert await compact(database.engine) == {}


async def test_writes_after_the_merge_are_found_and_merged_again(database: Database) -> None:
    await write_in_many_transactions(database, 5)
    await compact(database.engine)
    async with database.engine.begin() as connection:
        await connection.execute(insert(Verse), [{"line": "a new corazon"}])
        await connection.execute(sa.delete(Verse).where(Verse.id == 2))
    assert await segments(database.engine, FTS) > 1

    await compact(database.engine)

    assert await segments(database.engine, FTS) == 1
    ids = await found(database, "corazon")
    assert 2 not in ids
    assert ids[-1] == 101


async def test_the_job_merges_soon_after_start_and_stops(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bandstand.platform.text_index_upkeep.FIRST_RUN_DELAY_SECONDS", 0.0)
    await write_in_many_transactions(database, 6)
    upkeep = TextIndexUpkeep("verses", database, interval_seconds=3600)
    upkeep.start()
    try:
        for _ in range(200):
            if await segments(database.engine, FTS) == 1:
                break
            await asyncio.sleep(0.02)
        assert await segments(database.engine, FTS) == 1
    finally:
        await upkeep.stop()


async def test_postgresql_needs_no_upkeep(postgres_url: str) -> None:
    database = Database(postgres_url)
    try:
        assert await compact(database.engine) == {}
        upkeep = TextIndexUpkeep("verses", database, interval_seconds=3600)
        upkeep.start()
        assert not upkeep.running
        await upkeep.stop()
    finally:
        await database.dispose()
