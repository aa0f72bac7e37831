"""A list's page written to JSON by the database (`platform.json_rows`): the bytes the response
model writes for the same rows, the number of rows read and the sort keys of the page's ends,
on SQLite and PostgreSQL, in every order, forwards and (on PostgreSQL) backwards; None where
the rows are to be read the usual way."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, field_validator
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    Numeric,
    Select,
    String,
    Table,
    bindparam,
    insert,
    literal,
    select,
)

from bandstand.platform import json_rows
from bandstand.platform.database import Database, new_metadata
from bandstand.platform.json_rows import JsonArray, JsonRows, read_json
from bandstand.platform.keyset import Ordering
from bandstand.platform.plain_reads import plain_rows
from bandstand.platform.schemas import MoneyText, UTCDatetime

metadata = new_metadata()
songs = Table(
    "songs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("title", String(80), nullable=False),
    Column("price", Numeric(10, 2)),
    Column("released", Date),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("plays", Integer),
    Column("featured", Boolean),
)
MOMENT = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
TITLES = ['quotes " and \\ slash', "Canción ☃ 🎸", "tab\tand\nnewline", ',{"id":1}', "plain"]
ROWS: list[dict[str, Any]] = [
    {
        "id": n,
        "title": f"{TITLES[n % len(TITLES)]} {n}",
        "price": Decimal(n * 7 % 100) / 4 if n % 3 else None,
        "released": dt.date(2000 + n % 7, 1 + n % 12, 1 + n % 28) if n % 4 else None,
        "at": MOMENT.replace(microsecond=(n * 123457) % 1_000_000 if n % 5 else 0),
        "plays": n % 6 if n % 2 else None,
        "featured": (n % 3 == 0) if n % 5 != 1 else None,
    }
    for n in range(1, 38)
]


class Song(BaseModel):
    id: int
    title: str
    price: MoneyText | None
    released: dt.date | None
    at: UTCDatetime
    plays: int | None
    featured: bool | None
    mine: bool | None = None


SONG_ROWS = JsonRows.of(Song)
ORDERS = {
    "id": (songs.c.id.asc(),),
    "-title": (songs.c.title.desc(), songs.c.id.desc()),
    "released": (songs.c.released.asc().nulls_first(), songs.c.id.asc()),
    "-at": (songs.c.at.desc(), songs.c.id.desc()),
}


@pytest.fixture
async def database(database_urls: Callable[[str], str]) -> AsyncIterator[Database]:
    database = await _filled(database_urls("json_rows"))
    yield database
    await database.dispose()


@pytest.fixture
async def postgres_database(postgres_url_factory: Callable[[str], str]) -> AsyncIterator[Database]:
    database = await _filled(postgres_url_factory("json_rows_postgres"))
    yield database
    await database.dispose()


async def _filled(url: str) -> Database:
    database = Database(url)
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
        await connection.execute(insert(songs), ROWS)
    return database


def _listing(order: str, mine: bool = False) -> Select[Any]:
    columns: list[Any] = [*songs.c]
    if mine:
        columns.append((songs.c.plays > 2).label("mine"))
    return select(*columns).order_by(*ORDERS[order])


async def _compare(
    database: Database, statement: Select[Any], size: int, rows: JsonRows = SONG_ROWS
) -> None:
    """read_json's page of `rows` against the model's bytes for the rows `plain_rows` reads."""
    async with database.session() as session:
        dialect = session.get_bind().dialect.name
        ordering = Ordering.of(statement, dialect)
        assert ordering is not None
        keys = [key.column for key in ordering.keys]
        read = await read_json(session, statement, None, rows, size, keys)
        found = await plain_rows(session, statement)
    assert read is not None
    page = found[:size]
    expected = TypeAdapter(list[Song]).dump_json(
        [Song.model_validate(row._asdict()) for row in page]
    )
    assert read.results.encode() == expected
    assert isinstance(read.results, JsonArray)
    assert read.read == len(found)
    assert read.first == (ordering.values_of(page[0]) if page else None)
    assert read.last == (ordering.values_of(page[-1]) if page else None)


@pytest.mark.parametrize("order", list(ORDERS))
@pytest.mark.parametrize(("size", "offset"), [(10, 0), (10, 30), (50, 0), (5, 40)])
async def test_a_page_is_the_bytes_the_model_writes_with_its_ends(
    database: Database, order: str, size: int, offset: int
) -> None:
    statement = _listing(order).limit(size + 1).offset(offset)
    await _compare(database, statement, size)


async def test_a_column_of_the_viewer_and_one_the_statement_lacks(database: Database) -> None:
    await _compare(database, _listing("-title", mine=True).limit(8), 7)
    await _compare(database, _listing("-title").limit(8), 7)  # `mine` is null


async def test_a_page_read_backwards_is_given_in_the_list_order(database: Database) -> None:
    forwards = _listing("-at").limit(6).offset(10)
    ordering = Ordering.of(_listing("-at"), "sqlite")
    assert ordering is not None
    backwards = (
        _listing("-at")
        .order_by(None)
        .order_by(*(key.reversed().order() for key in ordering.keys))
        .offset(37 - 16)
        .limit(6)
    )
    async with database.session() as session:
        keys = [key.column for key in ordering.keys]
        read = await read_json(session, backwards, None, SONG_ROWS, 6, keys, backwards=True)
        if session.get_bind().dialect.name == "sqlite":
            assert read is None  # read as rows: SQLite's one pass keeps the order it is given
            return
        expected = await read_json(session, forwards, None, SONG_ROWS, 6, keys)
    assert read is not None
    assert expected is not None
    assert read.results == expected.results
    assert (read.first, read.last) == (expected.first, expected.last)


async def test_parameters_are_given_by_name(database: Database) -> None:
    statement = _listing("id").where(songs.c.id > bindparam("after")).limit(bindparam("n"))
    async with database.session() as session:
        read = await read_json(session, statement, {"after": 30, "n": 4}, SONG_ROWS, 3, [])
    assert read is not None
    assert [song["id"] for song in json.loads(read.results)] == [31, 32, 33]
    assert (read.read, read.first, read.last) == (4, None, None)


async def test_an_empty_page(database: Database) -> None:
    statement = _listing("id").where(songs.c.id > 1000).limit(11)
    async with database.session() as session:
        read = await read_json(session, statement, None, SONG_ROWS, 10, [songs.c.id])
    assert read is not None
    assert (read.results, read.read, read.first, read.last) == ("[]", 0, None, None)


async def test_a_page_read_in_a_transaction_sees_what_it_wrote(database: Database) -> None:
    async with database.session() as session:
        row = {**ROWS[0], "id": 100, "title": "written just now"}
        await session.execute(insert(songs), [row])
        statement = _listing("id").where(songs.c.id >= 100).limit(2)
        read = await read_json(session, statement, None, SONG_ROWS, 1, [songs.c.id])
    assert read is not None
    assert [song["title"] for song in json.loads(read.results)] == ["written just now"]


async def test_a_page_alone_sees_what_others_committed(database: Database) -> None:
    statement = _listing("id").where(songs.c.id >= 200).limit(2)
    async with database.session() as session:
        assert (await read_json(session, statement, None, SONG_ROWS, 1, [])) is not None
        row = {**ROWS[0], "id": 200, "title": "committed elsewhere"}
    async with database.session() as session:
        await session.execute(insert(songs), [row])
        await session.commit()
    async with database.session() as session:
        read = await read_json(session, statement, None, SONG_ROWS, 1, [])
    assert read is not None
    assert [song["title"] for song in json.loads(read.results)] == ["committed elsewhere"]


async def test_what_cannot_be_written_so_is_read_as_rows(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    lacking = select(songs.c.id, songs.c.title).order_by(songs.c.id).limit(3)
    computed = select(*songs.c, literal(1).label("extra")).order_by(songs.c.id).limit(3)

    async def failing(*_args: Any) -> Any:
        raise ConnectionResetError("the connection went away")

    async with database.session() as session:
        assert await read_json(session, lacking, None, SONG_ROWS, 2, []) is None
        assert await read_json(session, computed, None, SONG_ROWS, 2, []) is not None
        monkeypatch.setattr(json_rows, "read_row", failing)
        monkeypatch.setattr(json_rows, "fetch_on_driver", failing)
        assert await read_json(session, _listing("id").limit(3), None, SONG_ROWS, 2, []) is None


def test_models_that_change_their_values_or_have_other_types_are_refused() -> None:
    class Validated(BaseModel):
        name: str

        @field_validator("name")
        @classmethod
        def upper(cls, value: str) -> str:
            return value.upper()

    class Floating(BaseModel):
        ratio: float

    class Naive(BaseModel):
        at: dt.datetime

    class Numbers(BaseModel):
        values: list[int]

    for model in (Validated, Floating, Naive, Numbers):
        with pytest.raises(TypeError):
            JsonRows.of(model)


def test_a_list_of_names_is_the_json_its_column_holds() -> None:
    class Tagged(BaseModel):
        id: int
        tags: list[str]

    assert [field.kind for field in JsonRows.of(Tagged).fields] == ["value", "json"]
    assert [field.kind for field in SONG_ROWS.fields] == [
        "value",
        "value",
        "money",
        "value",
        "utc",
        "value",
        "bool",
        "bool",
    ]
    assert SONG_ROWS.nullable == {"mine"}


async def test_integers_and_booleans_are_written_without_a_type_lookup(
    postgres_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL's `to_json` finds how to write its argument's type on every call: integer and
    boolean columns are written by the cheaper SQL of their type instead (the bytes are
    compared by the tests above)."""
    statements: list[str] = []
    fetch = json_rows.fetch_on_driver

    async def recording(driver: Any, sql: str, *args: Any, **kwargs: Any) -> Any:
        statements.append(sql)
        return await fetch(driver, sql, *args, **kwargs)

    monkeypatch.setattr(json_rows, "fetch_on_driver", recording)
    async with postgres_database.session() as session:
        read = await read_json(session, _listing("id", mine=True).limit(4), None, SONG_ROWS, 3, [])
    assert read is not None
    [sql] = statements
    for column in ("c0", "c5", "c6", "c7"):  # id, plays, featured; `mine`, a comparison
        assert f"to_json({column})" not in sql
    assert "to_json(c1)" in sql  # the title, text
