"""A page of rows written to JSON by the database itself, in the order of the ids a search found.

Written in Python, each row of a page costs the event loop about 8 µs (the columns' type
processors, a dict, validation, JSON): 0.4 ms of a 50-listing search that costs 1.1 ms in all.
Here one statement returns the whole page as one JSON array (text), each field formatted as the
service's response model writes it (`JsonField.kind`; tests hold the two equal), together with
any scalars the caller asks for beside it (`extras`, subqueries: what a freshness check needs).

On SQLite the statement runs on a computing thread (`platform.threads`) together with the
blocking `find` that gives the ids (a search index's, which releases the GIL too): one hop, and
SQLite writes the text with the GIL released; the array comes back as one row, so the thread
takes the GIL back once, not once a row. Outside a transaction it runs on the thread's own
connection to the file (`sqlite_driver.thread_reader`), so the event loop checks no connection
out of the pool; inside one, on the session's connection, which sees what the transaction
wrote. On PostgreSQL the server writes the text, read on asyncpg's own connection. A read that
fails there or on the thread is read again through the session, which raises what the platform
knows (a database gone is a 503). `page_response` writes a list's body around the array.

A search index may keep each row's object itself, written by the database with the same SQL
(`JsonPage.object_sql`) when the row was indexed (`platform.shown_store`): `find_page` then
reads only the extras from the database (its freshness check), or the page too when the index
could not give it. `JsonPage.cut_before` names where a kept object is cut for a shape showing
its first fields only.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ARRAY, Integer, Select, String, bindparam, text
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import TextClause
from starlette.responses import Response

from bandstand.platform.json_text import (
    JsonField,
    identifier,
    postgres_object,
    sqlite_object,
)
from bandstand.platform.plain_reads import engine_reader, fetch_on_driver, is_asyncpg
from bandstand.platform.sqlite_driver import InlineConnection, thread_reader
from bandstand.platform.threads import on_computing_thread


@dataclass(frozen=True, eq=False)
class JsonPage:
    """The rows of `table` whose `key` is one of the ids, as JSON objects of `fields` (the
    column of each field has its name), with the scalar selects `extras` beside them.

    Its SQL is written here from these names, which must be plain identifiers (checked)."""

    table: str
    fields: Sequence[JsonField]
    key: str = "id"
    extras: Mapping[str, Select[Any]] | None = None

    def statement(self, dialect: Dialect) -> TextClause:
        key = (self, dialect.name)
        if key not in _BUILT:
            _BUILT[key] = _STATEMENTS[dialect.name](self, dialect)
        return _BUILT[key]

    def object_sql(self, dialect: Dialect) -> str:
        """The SQL of one row's object, its columns named by the table (for a select of it)."""
        members = [(field, f"{_quote(self.table)}.{_quote(field.name)}") for field in self.fields]
        if dialect.name == "sqlite":
            return sqlite_object(members)
        return postgres_object(members)

    def extras_statement(self, dialect: Dialect) -> TextClause:
        """The extras alone, one row (a page that has some)."""
        if not self.extras:
            raise ValueError(f"the page of {self.table!r} has no extras")
        key = (self, f"{dialect.name}:extras")
        if key not in _BUILT:
            _BUILT[key] = text(f"SELECT {_extras(self, dialect)[2:]}")
        return _BUILT[key]

    def cut_before(self, kept: JsonPage) -> str:
        """Where an object written as `kept` is cut to show this shape, whose fields are the
        first of `kept`'s: before the key of the first field it does not show (a key in quotes
        cannot be inside a value, whose quotes are escaped); "" when it shows them all."""
        shown = len(self.fields)
        if tuple(kept.fields[:shown]) != tuple(self.fields):
            raise ValueError(f"the fields of {self.table!r} are not the first of the kept ones")
        return "" if shown == len(kept.fields) else f',"{kept.fields[shown].name}":'


@dataclass(frozen=True)
class FoundPage:
    """The count `find` gave, the page's rows as a JSON array (text), and the extras by name."""

    count: int
    results: str
    extras: Mapping[str, Any]


_BUILT: dict[tuple[JsonPage, str], TextClause] = {}

Find = Callable[[], tuple[int, Sequence[int]]]
"""Blocking: the number of matches and the page's ids, in order."""
FindShown = Callable[[], tuple[int, Sequence[int], str | None]]
"""Blocking: the same, with the page's JSON array as a search index keeps it (None: not kept)."""


async def find_page(session: AsyncSession, page: JsonPage, find: Find) -> FoundPage:
    """Run `find`, then read its ids' rows as `page` says, in the ids' order."""
    return await find_shown_page(session, page, lambda: (*find(), None))


async def find_shown_page(session: AsyncSession, page: JsonPage, find: FindShown) -> FoundPage:
    """Run `find`; read `page`'s extras, and its ids' rows when `find` gave no array."""
    dialect = session.get_bind().dialect
    path = database_file(session)
    if path is not None and not session.in_transaction():
        found = await _found_on_thread(find, page, dialect, lambda: thread_reader(path))
    elif dialect.name == "sqlite":
        driver = await _driver(session)
        if isinstance(driver, InlineConnection):
            found = await _found_on_thread(find, page, dialect, lambda: driver)
        else:
            found = (*(await on_computing_thread(find)), None)
    else:
        # Found first: a connection of the pool is taken for the read alone.
        count, ids, shown = await on_computing_thread(find)
        row = await _read_on_server(session, page, dialect, None if shown is not None else ids)
        found = count, ids, shown, row
    count, ids, shown, row = found
    if row is None:
        row = await _read_by_session(session, page, dialect, None if shown is not None else ids)
    names = list(page.extras or {})
    values = dict(zip(names if shown is not None else ["results", *names], row, strict=True))
    results = shown if shown is not None else values.pop("results") or "[]"
    return FoundPage(count, results, values)


async def _driver(session: AsyncSession) -> Any:
    """The driver's own connection under the session's."""
    connection = (await session.connection()).sync_connection
    assert connection is not None
    return connection.connection.driver_connection


Found = tuple[int, Sequence[int], str | None, Sequence[Any] | None]
"""The count, the ids, the kept array and the row read (None: to be read through the session)."""


def _statement(page: JsonPage, dialect: Dialect, ids: Sequence[int] | None) -> TextClause:
    """The page's statement, or its extras alone when `ids` is None (the page is known)."""
    return page.statement(dialect) if ids is not None else page.extras_statement(dialect)


async def _read_by_session(
    session: AsyncSession, page: JsonPage, dialect: Dialect, ids: Sequence[int] | None
) -> Sequence[Any]:
    statement = _statement(page, dialect, ids)
    if ids is None:
        return (await session.execute(statement)).one()
    bound = json.dumps(list(ids)) if dialect.name == "sqlite" else list(ids)
    return (await session.execute(statement, {"ids": bound})).one()


async def _found_on_thread(
    find: FindShown,
    page: JsonPage,
    dialect: Dialect,
    connection: Callable[[], sqlite3.Connection],
) -> Found:
    def found_and_read() -> Found:
        count, ids, shown = find()
        wanted = None if shown is not None else ids
        try:
            return (
                count,
                ids,
                shown,
                _read(connection(), _statement(page, dialect, wanted).text, wanted),
            )
        except Exception:  # read again through the session
            return count, ids, shown, None

    return await on_computing_thread(found_and_read)


async def _read_on_server(
    session: AsyncSession, page: JsonPage, dialect: Dialect, ids: Sequence[int] | None
) -> Sequence[Any] | None:
    """The page's row (its extras alone when `ids` is None) read on asyncpg's connection
    itself (none of SQLAlchemy's execution on the event loop); None when the driver is another
    or the read failed.

    Outside a transaction the read takes a connection for itself (`plain_reads.engine_reader`),
    back in the pool as soon as it is done, not the session's, held to the end of the request:
    under load the pool opened and closed connections past its size (measured: 7% fewer
    searches a second)."""
    try:
        async with engine_reader(session) as reader:
            driver = reader if reader is not None else await _driver(session)
            if not is_asyncpg(driver):
                return None
            kind = "page" if ids is not None else "extras"
            key = (page, f"{dialect.name}:driver:{kind}")
            if key not in _BUILT:
                statement = _statement(page, dialect, ids)
                _BUILT[key] = text(statement.compile(dialect=dialect).string)
            arguments = [] if ids is None else [list(ids)]
            [row] = await fetch_on_driver(driver, _BUILT[key].text, arguments)
            return tuple(row)
    except Exception:  # read again through the session, which says what failed
        return None


def page_response(page: Mapping[str, Any], results: str) -> Response:
    """`page`, a list's body whose `results` (left empty there) are the JSON array `results`
    read by `find_page`, as a JSON response: the rest of the body written, the array as it is."""
    head = json.dumps(
        {key: value for key, value in page.items() if key != "results"},
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return Response(f'{head[:-1]},"results":{results}}}', media_type="application/json")


def database_file(session: AsyncSession) -> str | None:
    """The file of the session's SQLite database; None for PostgreSQL or a database in memory."""
    bind = session.get_bind()
    url = bind.engine.url if isinstance(bind, Connection) else bind.url
    if not url.drivername.startswith("sqlite") or url.database in (None, "", ":memory:"):
        return None
    return None if url.query.get("mode") == "memory" else url.database


def _read(connection: sqlite3.Connection, sql: str, ids: Sequence[int] | None) -> tuple[Any, ...]:
    parameters = {} if ids is None else {"ids": json.dumps(list(ids))}
    row: tuple[Any, ...] = sqlite3.Cursor(connection).execute(sql, parameters).fetchone()
    return row


def _quote(name: str) -> str:
    return f'"{identifier(name)}"'


def _column(field: JsonField) -> str:
    return f"t.{_quote(field.name)}"


def _extras(page: JsonPage, dialect: Dialect) -> str:
    return "".join(
        f", ({select.compile(dialect=dialect)}) AS {_quote(name)}"
        for name, select in (page.extras or {}).items()
    )


def _sqlite(page: JsonPage, dialect: Dialect) -> TextClause:
    item = sqlite_object([(field, _column(field)) for field in page.fields])
    # json_each yields the ids in their order and drives the join; the ORDER BY makes it sure.
    rows = (
        f"SELECT {item} AS item FROM json_each(:ids) AS e "  # noqa: S608
        f"JOIN {_quote(page.table)} AS t ON t.{_quote(page.key)} = e.value ORDER BY e.key"
    )
    sql = f"SELECT (SELECT json_group_array(json(item)) FROM ({rows})) AS results"  # noqa: S608
    sql += _extras(page, dialect)
    return text(sql).bindparams(bindparam("ids", type_=String))


def _postgres(page: JsonPage, dialect: Dialect) -> TextClause:
    item = postgres_object([(field, _column(field)) for field in page.fields])
    rows = (
        f"SELECT '[' || string_agg({item}, ',' ORDER BY e.place) || ']' "  # noqa: S608
        f"FROM unnest(CAST(:ids AS INTEGER[])) WITH ORDINALITY AS e(id, place) "
        f"JOIN {_quote(page.table)} AS t ON t.{_quote(page.key)} = e.id"
    )
    sql = f"SELECT ({rows}) AS results" + _extras(page, dialect)
    return text(sql).bindparams(bindparam("ids", type_=ARRAY(Integer)))


_STATEMENTS: dict[str, Callable[[JsonPage, Dialect], TextClause]] = {
    "sqlite": _sqlite,
    "postgresql": _postgres,
}
