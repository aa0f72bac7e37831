"""A page of a list's statement written to JSON by the database, with its sort keys beside it.

Written in Python, each row of a list page costs the event loop some 25 µs: the columns' type
processors, a dict, validation, JSON; most of a signed-in song page. Here the page's statement,
planned once (`platform.plain_reads`), is wrapped so that the database answers one row: the
page's rows as a JSON array of the response model's objects (`JsonRows`, each field written as
`platform.json_pages` writes it, the same bytes as pydantic), how many rows it read (a page reads
one more than it shows, to know whether there is a next), and the sort keys of the page's first
and last rows, typed as the statement's own columns, for the cursors of its links.

On SQLite, outside a transaction, the statement runs on a computing thread (`platform.threads`)
on the thread's own connection to the file (`sqlite_driver.thread_reader`): SQLite reads and
writes the page with the GIL released, and the event loop checks no connection out of the pool.
In a transaction it runs on the session's connection, which sees what the transaction wrote; on
PostgreSQL the server writes the page, read on asyncpg's connection. A statement that cannot be
planned, or a read that fails, answers None: the caller reads rows the usual way, which raises
what the platform knows (a database gone is a 503).
"""

from __future__ import annotations

import datetime as dt
import json
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Integer, Select
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.platform.json_pages import database_file
from bandstand.platform.json_text import (
    JsonField,
    Kind,
    SqlText,
    concat,
    pairs_pieces,
    pairs_text,
    sqlite_object,
)
from bandstand.platform.kept_json import KeptJson, KeptRun
from bandstand.platform.plain_reads import (
    Plan,
    column_position,
    engine_reader,
    fetch_on_driver,
    planned_read,
)
from bandstand.platform.schemas import MoneyText, UTCDatetime
from bandstand.platform.sqlite_driver import read_row


class JsonArray(str):
    """A JSON array as text, written into a body as it is (`json_response.JSONShape`)."""

    __slots__ = ()


@dataclass(frozen=True, eq=False)
class JsonRows:
    """The objects of a response model, each field read from the statement's column of its
    name; a field with a default of None that the statement does not select is null.

    Compared by identity: each is built once, and it keys the statements built for it, looked up
    on every page (hashing its fields each time cost a page some 10 µs)."""

    fields: tuple[JsonField, ...]
    nullable: frozenset[str]
    kept: tuple[KeptRun, ...] = ()
    """Runs of the fields whose text the table keeps (`platform.kept_json`): a statement that
    selects a run's column has the run read as it is kept."""

    @classmethod
    def of(cls, model: type[BaseModel], kept: KeptJson | None = None) -> JsonRows:
        """The fields of `model` in its order, by their names on the wire. A model that
        changes what it is given (validators, serializers, computed fields) or has a field of a
        type with no JSON writer here is refused (TypeError): its rows are read the usual way.
        So is `kept` when one of its runs is not a run of the model's fields, as written."""
        decorators = model.__pydantic_decorators__
        changes = (
            decorators.field_validators,
            decorators.model_validators,
            decorators.field_serializers,
            decorators.model_serializers,
            decorators.computed_fields,
        )
        if any(changes):
            raise TypeError(f"{model.__name__} changes its values in Python")
        fields = []
        nullable = set()
        for name, info in model.model_fields.items():
            annotation: Any = info.annotation
            if info.metadata:
                annotation = Annotated[(annotation, *info.metadata)]
            wire = info.serialization_alias or info.alias or name
            fields.append(JsonField(wire, _kind(annotation, f"{model.__name__}.{name}")))
            if not info.is_required() and info.default is None:
                nullable.add(wire)
        runs = kept.runs if kept is not None else ()
        for run in runs:
            if not _is_run_of(run.fields, fields):
                raise TypeError(f"{model.__name__} has no run of fields {run.fields}")
        return cls(tuple(fields), frozenset(nullable), runs)


def _is_run_of(run: tuple[JsonField, ...], fields: list[JsonField]) -> bool:
    return any(tuple(fields[n : n + len(run)]) == run for n in range(len(fields)))


def _kind(annotation: Any, where: str) -> Kind:
    if get_origin(annotation) in (Union, types.UnionType):
        present = [member for member in get_args(annotation) if member is not type(None)]
        if len(present) == 1:
            return _kind(present[0], where)
    if annotation == UTCDatetime:
        return "utc"
    if annotation == MoneyText:
        return "money"
    if annotation is bool:
        return "bool"
    if annotation in (int, str) or (annotation is dt.date):
        return "value"
    if annotation == list[str]:
        return "json"  # its column is the array's JSON text (`json_text.Kind`)
    raise TypeError(f"{where}: no JSON writer for {annotation!r}")


@dataclass(frozen=True)
class JsonRead:
    """What a page's read found: its rows (the first `size` read, in the page's order), how
    many rows were read, and the sort keys of the first and last of the page's rows."""

    results: JsonArray
    read: int
    first: tuple[Any, ...] | None
    last: tuple[Any, ...] | None


async def read_json(
    session: AsyncSession,
    statement: Select[Any],
    parameters: Mapping[str, Any] | None,
    rows: JsonRows,
    size: int,
    keys: Sequence[ColumnElement[Any]],
    *,
    backwards: bool = False,
    planned_once: bool = False,
) -> JsonRead | None:
    """The first `size` rows of `statement` (limited, ordered) as `rows`' JSON, with the values of
    `keys` in the first and last of them; `parameters` are its bound parameters' values by
    name, as `session.execute` takes them. `backwards`: the statement reads the page from its
    end, so its rows are given reversed. `planned_once`: PostgreSQL may plan it once per
    connection (`platform.plan_modes`). None: read the rows the usual way."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite" and backwards:
        return None  # rare (a `previous` link of a cursor page): SQLite's pass keeps the order
    path = database_file(session)
    own_reader = path is not None and not session.in_transaction()
    try:
        async with engine_reader(session) as driver:
            planned = await planned_read(
                session, statement, parameters, connect=not own_reader, driver=driver
            )
            if planned is None:
                return None
            plan = planned.plan
            wrapped = _wrapped(plan, rows, size, tuple(keys), backwards, dialect)
            if wrapped is None:
                return None
            sql, positions = wrapped
            if own_reader:
                assert path is not None
                found = await read_row(path, sql, planned.arguments)
            else:
                [found] = await fetch_on_driver(
                    planned.driver, sql, planned.arguments, planned_once=planned_once
                )
    except Exception:  # read again the usual way, which says what failed
        return None
    if dialect == "sqlite":
        return _from_sqlite(plan, positions, rows, size, *found)
    results, read, *values = found
    read = int(read)
    first = last = None
    if read and positions:
        first = _typed(plan, positions, values[: len(positions)])
        last = _typed(plan, positions, values[len(positions) :])
    if backwards:
        first, last = last, first
    elif read > size:
        results = _without_last(results, rows)
    return JsonRead(JsonArray(results or "[]"), read, first, last)


def _without_last(results: str, rows: JsonRows) -> str:
    """The array `results` without its last object (the row read beyond a page, to know that
    more follow). The objects are flat and a quote inside a string is escaped, so
    `,{"first field":` only begins an object."""
    return results[: results.rindex(',{"' + rows.fields[0].name + '":')] + "]"


def _from_sqlite(
    plan: Plan, positions: Sequence[int], rows: JsonRows, size: int, results: str, keys: str
) -> JsonRead:
    """SQLite's one pass wrote every row read (one more than the page when more follow) and
    the keys of each: the extra row is cut off the array's text here."""
    read_keys = json.loads(keys)
    read = len(read_keys)
    if read > size:
        results = _without_last(results, rows)
        read_keys = read_keys[:size]
    first = last = None
    if read_keys and positions:
        head, tail = read_keys[0], read_keys[-1]
        if len(positions) == 1:  # the values themselves (`_sqlite`)
            head, tail = (head,), (tail,)
        first, last = _typed(plan, positions, head), _typed(plan, positions, tail)
    return JsonRead(JsonArray(results), read, first, last)


def _typed(plan: Plan, positions: Sequence[int], values: Sequence[Any]) -> tuple[Any, ...]:
    """The values of the statement's columns at `positions`, as its rows would give them."""
    processors = dict(plan.result_processors)
    typed = []
    for position, value in zip(positions, values, strict=True):
        process = processors.get(position)
        typed.append(process(value) if process is not None and value is not None else value)
    return tuple(typed)


_WRAPPED: dict[tuple[str, JsonRows, int, tuple[Any, ...], bool, str], Any] = {}
WRAPPED_KEPT = 1024
_MISSING = object()


def _wrapped(
    plan: Plan,
    rows: JsonRows,
    size: int,
    keys: tuple[ColumnElement[Any], ...],
    backwards: bool,
    dialect: str,
) -> tuple[str, tuple[int, ...]] | None:
    """The statement around `plan`'s SQL, and where each key is among its columns; None when a
    field or a key is not among the statement's columns. Built once per shape."""
    key = (plan.sql, rows, size, keys, backwards, dialect)
    found = _WRAPPED.get(key, _MISSING)
    if found is not _MISSING:
        known: tuple[str, tuple[int, ...]] | None = found
        return known
    if len(_WRAPPED) >= WRAPPED_KEPT:
        _WRAPPED.clear()
    wrapped: tuple[str, tuple[int, ...]] | None = None
    members = _members(plan, rows)
    positions = [column_position(plan, column) for column in keys]
    if members is not None and None not in positions:
        places = tuple(p for p in positions if p is not None)
        kept = _kept(plan, rows)
        if dialect == "sqlite":
            wrapped = _sqlite(plan, members, kept, places), places
        else:
            item = _text_object(members, kept, dialect)
            wrapped = _postgres(plan, item, size, places, backwards), places
    _WRAPPED[key] = wrapped
    return wrapped


def _members(plan: Plan, rows: JsonRows) -> list[tuple[JsonField, str]] | None:
    names = plan.row._fields
    columns = plan.compiled._result_columns
    members = []
    for field in rows.fields:
        if field.name in names:
            place = names.index(field.name)
            if field.kind == "value" and isinstance(columns[place].type, Integer):
                field = JsonField(field.name, "int")
            members.append((field, f"c{place}"))
        elif field.name in rows.nullable:  # null, written as the JSON text it is
            members.append((JsonField(field.name, "json"), "CAST(NULL AS TEXT)"))
        else:
            return None
    return members


def _names(plan: Plan) -> str:
    return ", ".join(f"c{n}" for n in range(len(plan.row._fields)))


def _kept(plan: Plan, rows: JsonRows) -> dict[str, tuple[KeptRun, str]]:
    """The runs whose kept column the statement selects, by their first field's name."""
    names = plan.row._fields
    return {
        run.fields[0].name: (run, f"c{names.index(run.column)}")
        for run in rows.kept
        if run.column in names
    }


def _text_object(
    members: list[tuple[JsonField, str]], kept: dict[str, tuple[KeptRun, str]], dialect: str
) -> str:
    """The SQL of each row's object as text: each run whose text is kept read as it is (or, where
    it is missing, written like the other fields)."""
    pieces: list[str] = [SqlText("{")]
    place = 0
    while place < len(members):
        if place:
            pieces.append(SqlText(","))
        field, _column = members[place]
        run, kept_column = kept.get(field.name, (None, ""))
        taken = len(run.fields) if run is not None else 1
        written = members[place : place + taken]
        if run is not None:
            pieces.append(f"coalesce({kept_column}, {pairs_text(written, dialect)})")
        else:
            pieces += pairs_pieces(written, dialect)
        place += taken
    pieces.append(SqlText("}"))
    return concat(pieces)


def _sqlite(
    plan: Plan,
    members: list[tuple[JsonField, str]],
    kept: dict[str, tuple[KeptRun, str]],
    positions: tuple[int, ...],
) -> str:
    # One pass, in the order the statement gives its rows: the objects and each row's keys
    # (every row read: `_from_sqlite` cuts the extra one; backward pages are read as rows).
    # (SQLite reads a limited statement in a CTE as it gives its rows, in their order.)
    # Objects with kept text are joined as text: json_group_array would parse each again.
    # One key per row is the most common (an id): an array of the values themselves, which
    # SQLite writes and Python reads quicker than an array of one-value arrays.
    keys = (
        f"c{positions[0]}"
        if len(positions) == 1
        else "json_array(" + ", ".join(f"c{position}" for position in positions) + ")"
    )
    objects = (
        f"coalesce('[' || group_concat({_text_object(members, kept, 'sqlite')}, ',') || ']', '[]')"
        if kept
        else f"json_group_array({sqlite_object(members)})"
    )
    return (
        f"WITH q({_names(plan)}) AS ({plan.sql}) "  # noqa: S608
        f"SELECT {objects}, json_group_array({keys}) FROM q"
    )


def _postgres(
    plan: Plan,
    item: str,
    size: int,
    positions: tuple[int, ...],
    backwards: bool,
) -> str:
    # One pass over the statement's rows as it gives them, as SQLite's: an aggregate over a
    # subquery, with nothing else at its level, takes them in that order. Every row read is
    # written (`read_json` cuts the extra one), and the keys of the page's first and last rows
    # are read from one array of each key (measured at 100,000 songs, a signed-in search page:
    # 0.43 ms of the server's CPU numbering the rows in a window and ordering each aggregate
    # by that number, 0.38 ms so).
    if backwards:
        return _postgres_backwards(plan, item, size, positions)
    first = [f"(array_agg(c{p}))[1]" for p in positions]
    last = [f"(array_agg(c{p}))[least(count(*), {size})]" for p in positions]
    return (
        f"SELECT '[' || string_agg({item}, ',') || ']', count(*)"  # noqa: S608
        + "".join(f", {end}" for end in first + last)
        + f" FROM ({plan.sql}) AS page({_names(plan)})"
    )


def _postgres_backwards(plan: Plan, item: str, size: int, positions: tuple[int, ...]) -> str:
    # A page read from its end (a `previous` link): the rows numbered in the order the statement
    # gives them (an empty window keeps it), the page written in their reverse order.
    first = [f"(array_agg(c{p} ORDER BY n) FILTER (WHERE n = 1))[1]" for p in positions]
    last = [f"(array_agg(c{p} ORDER BY n DESC) FILTER (WHERE n <= {size}))[1]" for p in positions]
    return (
        f"SELECT '[' || string_agg({item}, ',' ORDER BY n DESC) "  # noqa: S608
        f"FILTER (WHERE n <= {size}) || ']', count(*)"
        + "".join(f", {end}" for end in first + last)
        + f" FROM (SELECT row_number() OVER () AS n, q.* FROM ({plan.sql}) AS q) "  # noqa: S608
        f"AS page(n, {_names(plan)})"
    )
