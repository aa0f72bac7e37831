"""The command line's import: a file streamed into the database outside any request."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

from bandstand.marketplace.imports import bulk
from bandstand.marketplace.imports.importer import (
    ImportFormat,
    InstrumentImport,
    SourceRow,
    rows_of,
)
from bandstand.marketplace.repository import ListingRow
from bandstand.marketplace.schemas import ImportSummary
from bandstand.platform.database import Database
from bandstand.platform.settings import Settings
from bandstand.platform.write_generation import followed_database

COMMIT_ROWS = 20_000
"""Rows written per transaction: one commit per batch made SQLite write most of its index
pages (to the WAL, then again to the file) at every batch of 2,000. A load with deferred
indexes commits every `bulk.LOAD_COMMIT_ROWS`."""
Progress = Callable[[int, int], None]
"""Called as `progress(bytes_read, rows_read)` after every batch."""


async def import_instruments(
    settings: Settings,
    path: Path,
    fmt: ImportFormat,
    *,
    batch_size: int,
    progress: Progress | None = None,
    actor_id: int | None = None,
) -> ImportSummary:
    """Stream `path` into the marketplace database, a transaction every `COMMIT_ROWS` rows.

    What is committed stays, so an import stopped half-way keeps what it wrote and can simply be
    run again. A large file imported into an empty table is loaded with the secondary indexes
    built at the end (`bulk`). Raises `UnreadableFile` (or OSError) when the file cannot be read.
    """
    # The service's readers in other processes see the import once a chunk commits.
    async with followed_database(settings, "marketplace") as database:
        return await _import(database, path, fmt, batch_size, progress, actor_id)


async def _import(
    database: Database,
    path: Path,
    fmt: ImportFormat,
    batch_size: int,
    progress: Progress | None,
    actor_id: int | None,
) -> ImportSummary:
    run = InstrumentImport(actor_id=actor_id, batch_size=batch_size)
    read = 0

    def next_batch(rows: Iterator[SourceRow]) -> list[ListingRow] | None:
        """Read and check rows until a batch is full; None at the end of the file."""
        nonlocal read
        for row in rows:
            read += 1
            if run.add(row):
                return run.take()
        return None

    session = database.session()
    uncommitted = 0
    commit_rows = COMMIT_ROWS

    async def write(batch: list[ListingRow]) -> None:
        nonlocal uncommitted
        await run.prepare(session)
        await run.write(session, batch)
        uncommitted += len(batch)
        if uncommitted >= commit_rows:
            await session.commit()
            uncommitted = 0

    try:
        size = (await asyncio.to_thread(path.stat)).st_size
        deferred = await bulk.begin(session, large=size >= bulk.LOAD_BYTES)
        if deferred:
            commit_rows = bulk.LOAD_COMMIT_ROWS
        try:
            with path.open("rb") as stream:
                rows, bytes_read = rows_of(stream, fmt)
                writing: asyncio.Task[None] | None = None
                try:
                    # Reading and checking a batch (in a thread) overlaps writing the one before.
                    while (batch := await asyncio.to_thread(next_batch, rows)) is not None:
                        if writing is not None:
                            await writing
                        writing = asyncio.create_task(write(batch))
                        if progress is not None:
                            progress(bytes_read(), read)
                finally:
                    if writing is not None:
                        await writing
            if deferred:
                await run.flush(session)
                await session.commit()
                await bulk.build(session)
        except BaseException:
            if deferred:
                await session.rollback()
                await bulk.build(session)
            raise
        summary = await run.finish(session)
        await session.commit()
        if progress is not None:
            progress(bytes_read(), read)
        return summary
    finally:
        await session.close()
