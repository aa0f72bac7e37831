"""Keeps SQLite's trigram indexes (`platform.text_index`) in one segment each.

FTS5 writes what each statement added to it (each row the triggers index) as a new segment of
its index, and merges segments only once several of one size pile up (`automerge`), so a table
written row by row keeps up to three segments of each size. A search looks each trigram of its
term up in every segment: after 100,000 songs were loaded, nine segments made a search for
`corazon` 45 lookups instead of 5, and the whole signed-in request cost 0.60 ms of CPU instead
of 0.46.

So each service on SQLite merges an index that has more than `MOST_SEGMENTS` into one, soon after
it starts and then every `text_index_upkeep_seconds`. It never holds a long write lock: FTS5's
incremental `merge` with a negative page count (every segment is eligible, whatever its size)
writes `MERGE_PAGES` pages a transaction, until a merge finds nothing left to do, which it shows
by changing fewer than two rows (`total_changes()`). Merging 100,000 songs' index takes 18 such
transactions (the longest 0.13 s), 0.28 s in all. PostgreSQL's GIN indexes need none of this.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bandstand.platform.database import Database
from bandstand.platform.periodic import PeriodicJob
from bandstand.platform.text_index import trigram_tables

logger = logging.getLogger("bandstand.text_index")

MOST_SEGMENTS = 1
MERGE_PAGES = 100
FIRST_RUN_DELAY_SECONDS = 2.0


async def segments(engine: AsyncEngine, fts: str) -> int:
    """The number of segments of the trigram table `fts` (its `_idx` table has a row per leaf
    page of each segment)."""
    async with engine.connect() as connection:
        # `fts` is a declared table's name (`trigram_tables`), never input.
        found = await connection.scalar(text(f"SELECT count(DISTINCT segid) FROM {fts}_idx"))  # noqa: S608
    return int(found or 0)


async def merge(engine: AsyncEngine, fts: str) -> int:
    """Merge every segment of `fts` into one, `MERGE_PAGES` pages a transaction; the number of
    transactions that merged something."""
    merging = text(f"INSERT INTO {fts}({fts}, rank) VALUES ('merge', -{MERGE_PAGES})")  # noqa: S608
    changes = text("SELECT total_changes()")
    merges = 0
    while True:
        async with engine.begin() as connection:
            before = int(await connection.scalar(changes) or 0)
            await connection.execute(merging)
            after = int(await connection.scalar(changes) or 0)
        if after - before < 2:
            return merges
        merges += 1
        await asyncio.sleep(0)  # requests have the database between transactions


async def compact(engine: AsyncEngine) -> dict[str, int]:
    """Merge each trigram table of the database behind `engine` that has more than
    `MOST_SEGMENTS`; the merges each took (nothing on another engine than SQLite)."""
    if engine.dialect.name != "sqlite":
        return {}
    async with engine.connect() as connection:
        existing = set(
            (await connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")))
            .scalars()
            .all()
        )
    merged: dict[str, int] = {}
    for fts in trigram_tables():
        if fts in existing and await segments(engine, fts) > MOST_SEGMENTS:
            merged[fts] = await merge(engine, fts)
    return merged


class TextIndexUpkeep(PeriodicJob):
    """The periodic `compact` of one service's database (on SQLite)."""

    def __init__(self, service: str, database: Database, interval_seconds: float) -> None:
        # Soon after start: a bulk load (an import, a seed) ran just before, in another process.
        super().__init__(f"text-index-{service}", interval_seconds, FIRST_RUN_DELAY_SECONDS)
        self.service = service
        self.database = database

    def wanted(self) -> bool:
        return self.database.engine.dialect.name == "sqlite"

    async def run_once(self) -> dict[str, int]:
        merged = await compact(self.database.engine)
        if merged:
            logger.info("text index: merged the segments of %s in %s", sorted(merged), self.service)
        return merged
