"""Marketplace's administrative commands, run by the CLI outside any request."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bandstand.marketplace.importer import ImportFormat, InstrumentImport, rows_of
from bandstand.marketplace.schemas import ImportSummary
from bandstand.platform.database import Database
from bandstand.platform.settings import Settings

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
    """Stream `path` into the marketplace database, one transaction per batch.

    A batch is committed once written, so an import stopped half-way keeps what it wrote and can
    simply be run again. Raises `UnreadableFile` (or OSError) when the file cannot be read.
    """
    database = Database(settings.database_url("marketplace"))
    run = InstrumentImport(actor_id=actor_id, batch_size=batch_size)
    rows_read = 0
    try:
        with path.open("rb") as stream:
            rows, bytes_read = rows_of(stream, fmt)
            for row in rows:
                rows_read += 1
                if run.add(row):
                    async with database.session() as session, session.begin():
                        await run.flush(session)
                    if progress is not None:
                        progress(bytes_read(), rows_read)
        async with database.session() as session, session.begin():
            summary = await run.finish(session)
        if progress is not None:
            progress(bytes_read(), rows_read)
        return summary
    finally:
        await database.dispose()
