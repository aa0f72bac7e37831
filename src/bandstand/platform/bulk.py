"""Statements over many rows whose SQL does not depend on how many rows there are.

SQLAlchemy renders a multi-row INSERT or an `IN (...)` with one placeholder per value, so each
batch size is a new statement: PostgreSQL parses and plans it again, and asyncpg prepares it
again, which costs more than the rows themselves. On PostgreSQL the values go as one array per
column instead (`unnest` for inserts, `= ANY` for lists of keys): one statement, prepared once.
SQLite has no arrays and no server to prepare on; there the usual forms are used.

Only for columns of plain types (numbers, strings, UUIDs, timestamps): the values are passed to
the driver as they are, without the column type's own conversions.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Table, TextClause, any_, bindparam, insert, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.schema import Column

from bandstand.platform.after_commit import writes


def is_postgresql(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def insert_rows(
    session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert `rows` (dicts with the same keys, a subset of `table`'s columns) in one statement."""
    if not rows:
        return
    if not is_postgresql(session):
        await session.execute(insert(table), list(rows))
        return
    keys = tuple(rows[0])
    arrays = {f"a_{index}": [row[key] for row in rows] for index, key in enumerate(keys)}
    await session.execute(_unnest_insert(table, keys), arrays)


def one_of(
    session: AsyncSession, column: Column[Any], values: Collection[Any]
) -> ColumnElement[bool]:
    """`column IN values`, as `column = ANY(:array)` on PostgreSQL."""
    if not is_postgresql(session):
        return column.in_(values)
    array_type = postgresql.ARRAY(column.type)
    return column == any_(bindparam(f"any_{column.name}", list(values), type_=array_type))


@lru_cache(maxsize=64)
def _unnest_insert(table: Table, keys: tuple[str, ...]) -> TextClause:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    casts = ", ".join(
        f"CAST(:a_{index} AS {table.c[key].type.compile(dialect=dialect)}[])"
        for index, key in enumerate(keys)
    )
    columns = ", ".join(dialect.identifier_preparer.quote(table.c[key].name) for key in keys)
    name = dialect.identifier_preparer.format_table(table)
    statement = text(f"INSERT INTO {name} ({columns}) SELECT * FROM unnest({casts})")  # noqa: S608
    return statement.execution_options(**writes(table.name, "insert"))
