"""A first load into an empty table: rows first, then the indexes built once over all of them.

Maintaining four secondary btrees and the full-text index row by row is most of what a large
import costs the database; building each once over the loaded rows costs a fraction of that.
So when the import command starts a large file (`LOAD_BYTES`) on an empty table, it drops them
(`defer`), loads, and builds them again (`build`): on SQLite the FTS5 index (`rebuild`, from
the table) and the triggers that keep it in sync, on PostgreSQL the GIN index, on both the
btrees. The primary key and the unique index on `link` stay, the upserts need the latter.

Safety, and its limits:

- Writes through the API while the load runs are kept: they go to the table, and everything is
  built at the end from every row the table holds then. On SQLite the `rebuild` and the triggers
  are created in one write transaction, so no write falls between them; PostgreSQL's CREATE
  INDEX sees every committed row and holds writes off while it builds. Until the load ends,
  searches do not find the listings written meanwhile, and filtered lists are slower.
- Only on an empty table: a table that already has listings keeps its indexes for the whole
  import, so searches never miss what was there before.
- An import that fails builds them again before it ends. One killed half-way leaves them
  missing until the next import, which starts by building whatever is missing (`restore`).
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Index, Table
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.schema import CreateIndex, DropIndex

from bandstand.marketplace.models import Instrument

LOAD_BYTES = 16 * 1024 * 1024
"""A file at least this large, imported into an empty table, is loaded with indexes deferred."""
LOAD_COMMIT_ROWS = 100_000
"""Rows per transaction of such a load. With the other indexes gone, what a commit writes is
mostly the pages of the unique index on `link` the rows touched, each once however many rows
touched it: at 1,000,000 rows on SQLite, 20,000 rows per transaction loaded in 65 s, 100,000 in
39 s. A write through the API waits for the running transaction, about 4 s at most, within
SQLite's busy timeout of 10 s."""
BUILD_MEMORY = "256MB"
"""PostgreSQL's `maintenance_work_mem` while building (sorting) the indexes of a load."""

# The same statements as the migration's, made idempotent.
SQLITE_TRIGGERS = {
    "instruments_fts_insert": "CREATE TRIGGER IF NOT EXISTS instruments_fts_insert AFTER INSERT"
    " ON instruments BEGIN INSERT INTO instruments_fts(rowid, search_text)"
    " VALUES (new.id, new.search_text); END",
    "instruments_fts_delete": "CREATE TRIGGER IF NOT EXISTS instruments_fts_delete AFTER DELETE"
    " ON instruments BEGIN INSERT INTO instruments_fts(instruments_fts, rowid, search_text)"
    " VALUES ('delete', old.id, old.search_text); END",
    "instruments_fts_update": "CREATE TRIGGER IF NOT EXISTS instruments_fts_update AFTER UPDATE"
    " OF search_text ON instruments BEGIN INSERT INTO instruments_fts(instruments_fts, rowid,"
    " search_text) VALUES ('delete', old.id, old.search_text);"
    " INSERT INTO instruments_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
}
POSTGRES_SEARCH_INDEX = "ix_instruments_search"
_TABLE = cast(Table, Instrument.__table__)
_POSTGRES_SEARCH = (
    f"CREATE INDEX IF NOT EXISTS {POSTGRES_SEARCH_INDEX} ON instruments"
    " USING gin (to_tsvector('simple'::regconfig, search_text))"
)


def deferred_indexes() -> list[Index]:
    """The secondary btrees of the models (not the primary key, not the unique `link`)."""
    return sorted(
        (index for index in _TABLE.indexes if not index.unique),
        key=lambda index: str(index.name),
    )


def deferred_names(dialect: str) -> set[str]:
    """Every structure a load defers on `dialect`."""
    names = {str(index.name) for index in deferred_indexes()}
    if dialect == "sqlite":
        return names | set(SQLITE_TRIGGERS)
    return names | {POSTGRES_SEARCH_INDEX}


async def present_names(connection: AsyncConnection) -> set[str]:
    """The indexes and triggers the `instruments` table has now."""
    if connection.dialect.name == "sqlite":
        statement = (
            "SELECT name FROM sqlite_master"
            " WHERE type IN ('index', 'trigger') AND tbl_name = 'instruments'"
        )
    else:
        statement = (
            "SELECT indexname FROM pg_indexes"
            " WHERE tablename = 'instruments' AND schemaname = current_schema()"
        )
    return {str(name) for (name,) in await connection.exec_driver_sql(statement)}


async def is_empty(connection: AsyncConnection) -> bool:
    result = await connection.exec_driver_sql("SELECT 1 FROM instruments LIMIT 1")
    return result.first() is None


async def begin(session: AsyncSession, *, large: bool) -> bool:
    """Start an import: build whatever an earlier load left missing, then defer the indexes
    when the file is `large` and the table empty. True when they were deferred: call `build`
    at the end, whether the load succeeded or not. Commits."""
    connection = await session.connection()
    await restore(session)
    deferring = large and await is_empty(connection)
    if deferring:
        await defer(connection)
    await session.commit()
    return deferring


async def defer(connection: AsyncConnection) -> None:
    """Drop the structures a load builds at its end."""
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        for trigger in SQLITE_TRIGGERS:
            await connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
    else:
        await connection.exec_driver_sql(f"DROP INDEX IF EXISTS {POSTGRES_SEARCH_INDEX}")
    for index in deferred_indexes():
        await connection.execute(DropIndex(index, if_exists=True))


async def build(session: AsyncSession) -> None:
    """Build what `defer` dropped, over every row of the table, in one transaction. Commits."""
    await restore(session)
    await session.commit()


async def restore(session: AsyncSession) -> bool:
    """Build the deferred structures that are missing; True if there were any. Does not commit.

    On SQLite, missing triggers mean the full-text index may lack rows written without them:
    it is rebuilt from the table before they are created again, in the same transaction.
    """
    connection = await session.connection()
    dialect = connection.dialect.name
    missing = deferred_names(dialect) - await present_names(connection)
    if not missing:
        return False
    if dialect == "sqlite":
        if missing & set(SQLITE_TRIGGERS):
            await connection.exec_driver_sql(
                "INSERT INTO instruments_fts(instruments_fts) VALUES ('rebuild')"
            )
            for statement in SQLITE_TRIGGERS.values():
                await connection.exec_driver_sql(statement)
    else:
        await connection.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'")
        if POSTGRES_SEARCH_INDEX in missing:
            await connection.exec_driver_sql(_POSTGRES_SEARCH)
    for index in deferred_indexes():
        if index.name in missing:
            await connection.execute(CreateIndex(index, if_not_exists=True))
    return True
