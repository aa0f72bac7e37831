"""Plain rows of a read run once-compiled on the session's connection: the same values as
SQLAlchemy's own execution, on SQLite and PostgreSQL, seen by the engine's statement
listeners, inside the session's transaction; what cannot be planned goes the usual way."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Enum,
    Integer,
    Numeric,
    String,
    Table,
    bindparam,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.exc import OperationalError

from bandstand.platform import plain_reads
from bandstand.platform.database import Database, new_metadata
from bandstand.platform.plain_reads import engine_reader, plain_rows, plain_scalar
from tests.support.statements import recorded_statements


class Colour(enum.Enum):
    red = "red"
    blue = "blue"


metadata = new_metadata()
things = Table(
    "things",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(40), nullable=False),
    Column("price", Numeric(10, 2)),
    Column("ratio", Numeric(10, 3, asdecimal=False)),
    Column("shown", Boolean, nullable=False),
    Column("day", Date),
    Column("at", DateTime(timezone=True)),
    Column("colour", Enum(Colour, native_enum=False)),
    Column("extra", JSON),
)
ROWS = [
    {
        "id": n,
        "name": f"thing {n}",
        "price": Decimal(f"{n}.25"),
        "ratio": n / 8,
        "shown": n % 2 == 0,
        "day": dt.date(2026, 1, n),
        "at": dt.datetime(2026, 1, n, 12, 30, tzinfo=dt.UTC),
        "colour": Colour.red if n % 2 else Colour.blue,
        "extra": {"n": n, "tags": ["a", "b"]},
    }
    for n in range(1, 6)
] + [
    {
        "id": 6,
        "name": "nothing",
        "price": None,
        "ratio": None,
        "shown": False,
        "day": None,
        "at": None,
        "colour": None,
        "extra": None,
    }
]


@pytest.fixture
async def database(database_urls: Callable[[str], str]) -> AsyncIterator[Database]:
    database = Database(database_urls("plain"))
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
        await connection.execute(insert(things), ROWS)
    yield database
    await database.dispose()


def _listed(*where: Any) -> Any:
    return (
        select(*things.c, (things.c.price * 2).label("doubled")).where(*where).order_by(things.c.id)
    )


def _comparable(value: Any) -> Any:
    """Datetimes compared as instants: SQLite gives back the naive UTC it stored."""
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


async def test_the_same_rows_as_sqlalchemy_gives(database: Database) -> None:
    async with database.session() as session:
        for where in ((), (things.c.id > 2,), (things.c.name.like("thing%"), things.c.shown)):
            expected = (await session.execute(_listed(*where))).all()
            for _ in range(2):  # planned, then from the plan
                rows = await plain_rows(session, _listed(*where))
                assert [tuple(map(_comparable, row)) for row in rows] == [
                    tuple(map(_comparable, row)) for row in expected
                ]
                assert [row._fields for row in rows] == [row._fields for row in expected]
                assert [row._asdict() for row in rows] == [row._asdict() for row in expected]
    assert isinstance(rows[0].price, Decimal)
    assert isinstance(rows[0].colour, Colour)
    assert rows[0].extra == {"n": 2, "tags": ["a", "b"]}


async def test_rows_answer_by_label_and_by_selected_column(database: Database) -> None:
    statement = _listed(things.c.id == 3)
    async with database.session() as session:
        (row,) = await plain_rows(session, statement)
    assert row.name == row._mapping["name"] == row._mapping[things.c.name] == "thing 3"
    assert things.c.day in row._mapping
    assert "doubled" in row._mapping
    assert row.doubled == Decimal("6.50")
    with pytest.raises(AttributeError):
        _ = row.nothing


async def test_parameters_come_from_each_statement(database: Database) -> None:
    async with database.session() as session:
        for n in (1, 4, 2):
            count = await plain_scalar(
                session, select(func.count()).select_from(things).where(things.c.id <= n)
            )
            assert count == n


async def test_parameters_given_by_name_fill_a_statement_built_once(database: Database) -> None:
    statement = _listed(things.c.id <= bindparam("last"), things.c.name != bindparam("not_named"))
    async with database.session() as session:
        for last, expected in ((2, [1, 2]), (4, [1, 2, 4]), (1, [1])):
            given = {"last": last, "not_named": "thing 3"}
            rows = await plain_rows(session, statement, given)
            assert [row.id for row in rows] == expected
            assert rows == (await session.execute(statement, given)).all()


async def test_a_statement_read_again_takes_each_reads_values(database: Database) -> None:
    """A statement's plan and own values are found once; the values given by name are each
    read's, other names than the first read's are taken too, and a value given by a callable
    is asked for at each read."""
    statement = _listed(things.c.id <= bindparam("last"), things.c.name != bindparam("not_named"))
    async with database.session() as session:
        for given, expected in (
            ({"last": 2, "not_named": "thing 3"}, [1, 2]),
            ({"last": 4, "not_named": "thing 2"}, [1, 3, 4]),
            ({"not_named": "thing 1", "last": 3}, [2, 3]),
        ):
            rows = await plain_rows(session, statement, given)
            assert [row.id for row in rows] == expected
        bound = [2, 4, 1]
        asked = _listed(things.c.id <= bindparam("last", callable_=bound.pop))
        for expected in ([1], [1, 2, 3, 4], [1, 2]):
            assert [row.id for row in await plain_rows(session, asked)] == expected


async def test_the_engines_listeners_see_each_statement(database: Database) -> None:
    async with database.session() as session:
        with recorded_statements(database) as seen:
            await plain_rows(session, _listed())
            await plain_rows(session, _listed())
    assert len(seen) == 2
    assert all("FROM things" in sql for sql in seen)


async def test_a_read_sees_what_its_transaction_wrote(database: Database) -> None:
    async with database.session() as session:
        await session.execute(
            insert(things), [{"id": 7, "name": "fresh", "shown": True, "extra": None}]
        )
        rows = await plain_rows(session, _listed(things.c.id == 7))
        assert [row.name for row in rows] == ["fresh"]
        await session.rollback()
        assert await plain_rows(session, _listed(things.c.id == 7)) == []


async def test_what_cannot_be_planned_runs_through_the_session(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    planned: list[Any] = []
    real = plain_reads._plan

    async def counting(*args: Any) -> Any:
        plan = await real(*args)
        planned.append(plan)
        return plan

    monkeypatch.setattr(plain_reads, "_plan", counting)
    async with database.session() as session:
        # An IN list is expanded when it runs: not planned, still right.
        expanding = _listed(things.c.id.in_([1, 3]))
        assert [row.id for row in await plain_rows(session, expanding)] == [1, 3]
        assert [row.id for row in await plain_rows(session, _listed(things.c.id.in_([2])))] == [2]
    assert planned[0] is None


async def test_a_read_the_driver_fails_runs_again_through_the_engine(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def failing(*_args: Any) -> Any:
        raise ConnectionResetError("the server went away")

    monkeypatch.setattr(plain_reads, "fetch_on_driver", failing)
    async with database.session() as session:
        rows = await plain_rows(session, _listed(things.c.id < 3))
    assert [row.name for row in rows] == ["thing 1", "thing 2"]


async def test_a_database_gone_is_what_the_engine_says(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'gone.sqlite3'}")
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        async with database.session() as session:
            await plain_rows(session, _listed())  # planned
            await session.execute(text("DROP TABLE things"))
            with pytest.raises(OperationalError):
                await plain_rows(session, _listed())
    finally:
        await database.dispose()


@pytest.fixture
async def on_postgres(postgres_url_factory: Callable[[str], str]) -> AsyncIterator[Database]:
    database = Database(postgres_url_factory("engine_reader"), pool_size=1)
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
        await connection.execute(insert(things), ROWS)
    yield database
    await database.dispose()


@pytest.mark.postgres
async def test_a_read_outside_a_transaction_leaves_the_session_holding_nothing(
    on_postgres: Database,
) -> None:
    async with on_postgres.session() as session:
        async with engine_reader(session) as driver:
            assert driver is not None
            assert await driver.fetchval("SELECT count(*) FROM things") == len(ROWS)
        assert not session.in_transaction()
        await session.execute(insert(things).values(id=7, name="new", shown=True))
        async with engine_reader(session) as driver:
            assert driver is None  # the session's connection sees what it wrote: read there
        assert len(await plain_rows(session, _listed())) == len(ROWS) + 1


@pytest.mark.postgres
async def test_a_reader_connection_the_server_dropped_is_replaced(
    on_postgres: Database, postgres_url_factory: Callable[[str], str]
) -> None:
    async with on_postgres.session() as session, engine_reader(session) as driver:
        dropped = await driver.fetchval("SELECT pg_backend_pid()")
    other = Database(postgres_url_factory("engine_reader_other"))
    try:
        async with other.engine.connect() as connection:
            await connection.execute(text(f"SELECT pg_terminate_backend({dropped})"))
    finally:
        await other.dispose()
    with pytest.raises((asyncpg.InterfaceError, asyncpg.InternalClientError)):
        async with on_postgres.session() as session, engine_reader(session) as driver:
            await driver.fetchval("SELECT 1")
    async with on_postgres.session() as session, engine_reader(session) as driver:
        assert await driver.fetchval("SELECT pg_backend_pid()") != dropped
