"""Plain rows of a read, on the session's own connection, with SQLAlchemy doing its work once.

Through `AsyncSession.execute` every statement of a list page paid SQLAlchemy's execution:
ORM context, events, a compiled statement looked up, a cursor result and its rows built
(measured: 0.38 ms of CPU to read 51 songs on SQLite, of which the driver's share was 0.07 ms).
A read of columns (no ORM entities) needs none of that after its first time: here each shape of
statement (SQLAlchemy's own cache key, the parameters apart) is compiled once per dialect into a
plan (its SQL, the order of its parameters, their bind processors, the result columns' type
processors and a row class), and each execution only extracts the statement's parameters, runs
the SQL on the driver's connection of the session and applies the processors.

The rows are tuples with attribute access by label, `_fields`, `_asdict()` and a `_mapping`
that also answers by the selected columns, as SQLAlchemy's rows do. The statements run inside the
session's transaction, on its connection: a read sees what the request wrote before it. The
engine's `before_cursor_execute` listeners still see each statement. A page read outside a
transaction on PostgreSQL may instead run on a connection checked out for it alone
(`engine_reader`, as SQLite's pages run on a thread's own connection); the listeners do not see
those reads, which write nothing.

A driver's error is not the platform's: a read that fails is run again through the engine, which
raises what SQLAlchemy raises (and replaces a connection the server dropped). A statement this
cannot plan (ORM entities, parameters expanded at execution such as `IN` lists,
a driver other than the kernel's SQLite driver or asyncpg, a result type whose processor needs
the driver's cursor) goes through `session.execute` as before.
"""

from __future__ import annotations

import collections
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bandstand.platform.kept_readers import KeptReaders
from bandstand.platform.plan_modes import CUSTOM, GENERIC, use_mode
from bandstand.platform.sqlite_driver import InlineConnection

PLANS_KEPT = 2048

Processor = Callable[[Any], Any]


class PlainRow(tuple[Any, ...]):
    """A row of a plan: its class names the fields and where each selected column is."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()
    _positions: Mapping[Any, int] = {}

    def __getattr__(self, name: str) -> Any:
        try:
            return self[self._positions[name]]
        except KeyError:
            raise AttributeError(name) from None

    def _asdict(self) -> dict[str, Any]:
        return dict(zip(self._fields, self, strict=True))

    @property
    def _mapping(self) -> RowMapping:
        return RowMapping(self)


class RowMapping(Mapping[Any, Any]):
    """A row by label or by selected column."""

    __slots__ = ("_row",)

    def __init__(self, row: PlainRow) -> None:
        self._row = row

    def __getitem__(self, key: Any) -> Any:
        return self._row[self._row._positions[_plain(key)]]

    def __contains__(self, key: object) -> bool:
        try:
            return _plain(key) in self._row._positions
        except TypeError:  # an unhashable key
            return False

    def __iter__(self) -> Iterator[str]:
        return iter(self._row._fields)

    def __len__(self) -> int:
        return len(self._row._fields)


def _plain(key: Any) -> Any:
    """A selected column as the table's own: found by identity, where an annotated copy of it
    is found by equality, which builds and evaluates an SQL comparison."""
    deannotate = getattr(key, "_deannotate", None)
    return deannotate() if deannotate is not None else key


@dataclass(frozen=True)
class Plan:
    compiled: Any
    sql: str
    parameters: tuple[str, ...]
    bind_processors: Mapping[str, Processor]
    result_processors: tuple[tuple[int, Processor], ...]
    row: type[PlainRow]


_PLANS: dict[tuple[str, Any], Plan | None] = {}
_UNPLANNED: Any = object()
_READS: weakref.WeakKeyDictionary[Select[Any], _KnownRead] = weakref.WeakKeyDictionary()
"""Each statement's plan and values (`_KnownRead`), by the statement itself."""


@dataclass(frozen=True)
class PlannedRead:
    """A statement ready to run on a driver's connection: its plan and its arguments, and the
    session's connection and its driver's (None when planned without them)."""

    plan: Plan
    arguments: list[Any]
    connection: Connection | None
    driver: Any


async def planned_read(
    session: AsyncSession,
    statement: Select[Any],
    parameters: Mapping[str, Any] | None = None,
    *,
    connect: bool = True,
    driver: Any = None,
) -> PlannedRead | None:
    """`statement`'s plan and arguments on the session's connection, announced to the engine's
    listeners; None when it cannot be planned (`session.execute` reads it then).

    `connect=False` plans a SQLite statement without the session's connection, to be run on
    another connection to the same file (no connection is checked out of the pool). `driver`:
    an asyncpg connection of the engine's own (`engine_reader`) to plan and run it on instead."""
    connection: Connection | None = None
    if driver is not None:
        dialect = session.get_bind().dialect
    elif connect:
        connection = (await session.connection()).sync_connection
        assert connection is not None
        dialect = connection.dialect
        driver = connection.connection.driver_connection
    else:
        dialect = session.get_bind().dialect
        if dialect.name != "sqlite":
            return None
    known = _READS.get(statement)
    arguments = None
    if known is not None and known.dialect == dialect.name and _plannable_on(driver):
        arguments = known.arguments_with(parameters)
    if known is not None and arguments is not None:
        plan = known.plan
    else:
        found = await _plan_of(dialect, statement, driver)
        if found is None:
            return None
        plan, cache_key = found
        arguments = _arguments(plan, cache_key, parameters)
        if not any(bind.callable is not None for bind in cache_key.bindparams):
            _READS[statement] = _KnownRead.of(dialect.name, plan, arguments, parameters)
    if connection is not None:
        _announce(connection, plan.sql, arguments)
    return PlannedRead(plan, arguments, connection, driver)


async def _plan_of(
    dialect: Dialect, statement: Select[Any], driver: Any
) -> tuple[Plan, Any] | None:
    """The plan of statements of `statement`'s shape on `dialect`, and its cache key; None when
    it cannot be planned."""
    cache_key = statement._generate_cache_key()
    if cache_key is None or not _plannable(statement, driver):
        return None
    shape = (dialect.name, cache_key.key)
    plan = _PLANS.get(shape, _UNPLANNED)  # one look-up: the key is a deep tuple, hashed anew
    if plan is _UNPLANNED:
        plan = await _plan(dialect, statement, cache_key, driver)
        if len(_PLANS) >= PLANS_KEPT:
            _PLANS.clear()
        _PLANS[shape] = plan
    return (plan, cache_key) if plan is not None else None


def _arguments(plan: Plan, cache_key: Any, parameters: Mapping[str, Any] | None) -> list[Any]:
    """The values of `plan`'s parameters for a statement of its shape (its cache key's) with
    `parameters` by name, in the plan's order, processed for the driver."""
    values = plan.compiled.construct_params(
        params=parameters, extracted_parameters=cache_key.bindparams
    )
    binds = plan.bind_processors
    return [
        binds[name](values[name]) if name in binds else values[name] for name in plan.parameters
    ]


@dataclass(frozen=True)
class _KnownRead:
    """A statement's plan and its own values, found once: a list's statements are built once
    and read on every request, and finding its plan by its cache key (a deep tuple, hashed anew)
    and its values again cost a page some 10 µs. The parameters given by name are the values
    that change; a read given other names than the first finds its values again."""

    dialect: str
    plan: Plan
    arguments: tuple[Any, ...]
    given: tuple[str, ...]
    places: tuple[tuple[int, ...], ...]

    @classmethod
    def of(
        cls, dialect: str, plan: Plan, arguments: list[Any], parameters: Mapping[str, Any] | None
    ) -> _KnownRead:
        given = tuple(parameters or ())
        places = tuple(
            tuple(n for n, name in enumerate(plan.parameters) if name == given_name)
            for given_name in given
        )
        return cls(dialect, plan, tuple(arguments), given, places)

    def arguments_with(self, parameters: Mapping[str, Any] | None) -> list[Any] | None:
        """The statement's values with `parameters`; None when they name other parameters
        than the first read's."""
        arguments = list(self.arguments)
        if not parameters:
            return None if self.given else arguments
        if tuple(parameters) != self.given:
            return None
        binds = self.plan.bind_processors
        for places, (name, value) in zip(self.places, parameters.items(), strict=True):
            process = binds.get(name)
            processed = process(value) if process is not None else value
            for place in places:
                arguments[place] = processed
        return arguments


async def plain_rows(
    session: AsyncSession, statement: Select[Any], parameters: Mapping[str, Any] | None = None
) -> list[Any]:
    """Every row of `statement` (a select of columns), with `parameters` given to its bound
    parameters by name (as `session.execute` takes them): a statement built once is read with
    each request's values."""
    read = await planned_read(session, statement, parameters)
    if read is None:
        return list((await session.execute(statement, parameters)).all())
    try:
        raw = await fetch_on_driver(read.driver, read.plan.sql, read.arguments)
    except Exception:
        # Read again the engine's way, which raises what the platform knows (a database gone
        # is a 503) and has the pool replace a connection the server dropped.
        return list((await session.execute(statement, parameters)).all())
    make, processors = read.plan.row, read.plan.result_processors
    if not processors:
        return [make(row) for row in raw]
    rows = []
    for row in raw:
        fields = list(row)
        for position, process in processors:
            fields[position] = process(fields[position])
        rows.append(make(fields))
    return rows


@asynccontextmanager
async def engine_reader(session: AsyncSession) -> AsyncIterator[Any]:
    """For one read of `session` outside a transaction on PostgreSQL, an asyncpg connection
    of its engine for that read alone (`platform.kept_readers`): the session's own connection,
    checked out through the session and given back when it closes, cost a signed-in song page
    about 0.2 ms of the event loop's CPU. It sees what any connection outside a transaction
    sees. None where the session's connection is the one to read on (SQLite, a transaction
    begun, a session bound to a connection)."""
    engine = session.bind
    if (
        not isinstance(engine, AsyncEngine)
        or engine.dialect.driver != "asyncpg"
        or session.in_transaction()
    ):
        yield None
        return
    kept = KeptReaders.of(engine)
    checked_out = await kept.take(engine)
    try:
        yield checked_out.driver_connection
    except BaseException:
        # Dropped by the server, or left in the middle of a statement (cancelled): replaced.
        await kept.discard(engine, checked_out)
        raise
    await kept.give_back(engine, checked_out)


def column_position(plan: Plan, column: Any) -> int | None:
    """Where `column` (a selected column or its label) is among `plan`'s result columns."""
    return plan.row._positions.get(_plain(column))


async def plain_scalar(session: AsyncSession, statement: Select[Any]) -> Any:
    """The first column of the one row of `statement`."""
    rows = await plain_rows(session, statement)
    if len(rows) != 1:
        raise ValueError(f"expected one row, got {len(rows)}")
    return rows[0][0]


def _plannable(statement: Select[Any], driver: Any) -> bool:
    return _plannable_on(driver) and all(
        isinstance(column, ColumnElement) for column in statement._raw_columns
    )


def _plannable_on(driver: Any) -> bool:
    """`driver` None: a plain `sqlite3` connection."""
    return driver is None or isinstance(driver, InlineConnection) or is_asyncpg(driver)


def is_asyncpg(driver: Any) -> bool:
    """Whether `driver` is an asyncpg connection."""
    return type(driver).__module__.startswith("asyncpg")


async def _plan(
    dialect: Dialect, statement: Select[Any], cache_key: Any, driver: Any
) -> Plan | None:
    compiled: Any = dialect.statement_compiler(dialect, statement, cache_key=cache_key)
    if compiled.literal_execute_params or compiled.post_compile_params:
        return None
    if compiled.positiontup is None:
        return None
    columns = compiled._result_columns
    coltypes: Sequence[Any] = [None] * len(columns)
    if is_asyncpg(driver):
        prepared = await driver.prepare(compiled.string)
        coltypes = [attribute.type.oid for attribute in prepared.get_attributes()]
    processors = []
    try:
        for position, (column, coltype) in enumerate(zip(columns, coltypes, strict=True)):
            process = column.type._cached_result_processor(dialect, coltype)
            if process is not None:
                processors.append((position, process))
    except Exception:  # a processor that needs what only the driver's cursor describes
        return None
    names = tuple(column.keyname for column in columns)
    positions: dict[Any, int] = {}
    for position, column in enumerate(columns):
        positions.setdefault(column.keyname, position)
        for selected in column.objects:
            if _hashable(selected):
                positions.setdefault(_plain(selected), position)
    row = type(
        "PlainRow", (PlainRow,), {"__slots__": (), "_fields": names, "_positions": positions}
    )
    return Plan(
        compiled=compiled,
        sql=compiled.string,
        parameters=tuple(compiled.positiontup),
        bind_processors=dict(compiled._bind_processors),
        result_processors=tuple(processors),
        row=row,
    )


def _hashable(value: Any) -> bool:
    return isinstance(value, collections.abc.Hashable) and not isinstance(value, str | int)


async def fetch_on_driver(
    driver: Any, sql: str, arguments: list[Any], *, planned_once: bool = False
) -> Sequence[Any]:
    """The rows of `sql` run on the driver's connection (the kernel's SQLite or asyncpg).
    `planned_once`: PostgreSQL plans it once per connection rather than for its values
    (`platform.plan_modes`)."""
    if isinstance(driver, InlineConnection):
        return await driver.read_all(sql, arguments)
    await use_mode(driver, GENERIC if planned_once else CUSTOM)
    rows: Sequence[Any] = await driver.fetch(sql, *arguments)
    return rows


def _announce(connection: Connection, sql: str, arguments: list[Any]) -> None:
    """What the engine's `before_cursor_execute` listeners would have seen."""
    for listener in connection.dispatch.before_cursor_execute:
        listener(connection, None, sql, arguments, None, False)
