"""A page written to JSON by the database: the same bytes as the response model writes for the
same rows, on SQLite and PostgreSQL, in the order of the ids given, with its extras; a read
that fails on SQLite's thread is read again through the session."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, TypeAdapter
from sqlalchemy import Column, Date, DateTime, Integer, Numeric, String, Table, func, insert, select
from sqlalchemy import text as sql_text
from sqlalchemy.exc import OperationalError

from bandstand.platform import json_pages
from bandstand.platform.database import Database, new_metadata
from bandstand.platform.json_pages import JsonPage, find_page, find_shown_page
from bandstand.platform.json_text import JsonField
from bandstand.platform.schemas import MoneyText, UTCDatetime

metadata = new_metadata()
items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(80), nullable=False),
    Column("price", Numeric(10, 2)),
    Column("day", Date),
    Column("at", DateTime(timezone=True)),
    Column("stock", Integer),
)
MOMENT = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
ROWS: list[dict[str, Any]] = [
    {"id": 1, "name": "plain", "price": Decimal("10.00"), "day": dt.date(2026, 1, 2), "at": MOMENT},
    {"id": 2, "name": 'quotes " and \\ slash', "price": Decimal("1234.5"), "at": MOMENT},
    {"id": 3, "name": "Guitarra española ☃ 🎸", "price": Decimal("0"), "stock": 0},
    {"id": 4, "name": "tab\tand\nnewline", "price": Decimal("99999999.99"), "stock": 7},
    {
        "id": 5,
        "name": "micro",
        "at": MOMENT.replace(microsecond=123456),
        "day": dt.date(1999, 12, 31),
    },
    {"id": 6, "name": "tiny", "at": MOMENT.replace(microsecond=5), "price": Decimal("0.01")},
    {"id": 7, "name": "nothing"},
]


class Item(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    price: MoneyText | None
    day: dt.date | None
    at: UTCDatetime | None
    stock: int | None


PAGE = JsonPage(
    "items",
    [
        JsonField("id"),
        JsonField("name"),
        JsonField("price", "money"),
        JsonField("day"),
        JsonField("at", "utc"),
        JsonField("stock"),
    ],
    extras={"top": select(func.max(items.c.id)), "named": select(func.count()).select_from(items)},
)


@pytest.fixture
async def database(database_urls: Callable[[str], str]) -> AsyncIterator[Database]:
    database = Database(database_urls("json_pages"))
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
        await connection.execute(
            insert(items),
            [{column.name: row.get(column.name) for column in items.c} for row in ROWS],
        )
    yield database
    await database.dispose()


async def _written_by_the_model(database: Database, ids: Sequence[int]) -> bytes:
    async with database.session() as session:
        stored = {row.id: row for row in (await session.execute(select(items))).all()}
    listed = [Item.model_validate(stored[n]) for n in ids if n in stored]
    return TypeAdapter(list[Item]).dump_json(listed)


async def _found(database: Database, ids: Sequence[int], count: int = 99) -> json_pages.FoundPage:
    async with database.session() as session:
        return await find_page(session, PAGE, lambda: (count, ids))


async def test_each_row_is_the_bytes_the_model_writes(database: Database) -> None:
    ids = [row["id"] for row in ROWS]
    found = await _found(database, ids)
    assert found.results.encode() == await _written_by_the_model(database, ids)
    assert found.count == 99


async def test_rows_come_in_the_order_of_the_ids_and_missing_ones_are_left_out(
    database: Database,
) -> None:
    ids = [5, 2, 404, 7, 1, 3]
    found = await _found(database, ids)
    assert found.results.encode() == await _written_by_the_model(database, ids)
    assert [
        item["id"] for item in TypeAdapter(list[dict[str, Any]]).validate_json(found.results)
    ] == [
        5,
        2,
        7,
        1,
        3,
    ]


async def test_no_ids_is_an_empty_array_with_the_extras(database: Database) -> None:
    found = await _found(database, [], count=0)
    assert found.results == "[]"
    assert found.extras == {"top": 7, "named": 7}


async def test_a_read_that_fails_on_the_driver_is_read_through_the_session(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(*_args: Any) -> Any:
        raise ConnectionResetError("the connection went away")

    async def failing_on_the_server(*_args: Any) -> Any:
        raise ConnectionResetError("the server went away")

    monkeypatch.setattr(json_pages, "_read", failing)
    monkeypatch.setattr(json_pages, "fetch_on_driver", failing_on_the_server)
    found = await _found(database, [3, 1])
    assert found.results.encode() == await _written_by_the_model(database, [3, 1])
    assert found.extras["top"] == 7


async def test_a_database_gone_is_what_the_engine_says(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'gone.sqlite3'}")
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        async with database.session() as session:
            await session.execute(sql_text("DROP TABLE items"))
            with pytest.raises(OperationalError):
                await find_page(session, PAGE, lambda: (1, [1]))
    finally:
        await database.dispose()


def test_names_that_are_not_identifiers_are_refused() -> None:
    page = JsonPage("items; DROP TABLE items", [JsonField("id")])
    with pytest.raises(ValueError, match="not an identifier"):
        page.statement(Database("sqlite+aiosqlite://").engine.dialect)


async def test_a_page_read_inside_a_transaction_sees_what_it_wrote(database: Database) -> None:
    async with database.session() as session:
        await session.execute(insert(items), [{"id": 8, "name": "written just now"}])
        found = await find_page(session, PAGE, lambda: (1, [8]))
    assert [item["name"] for item in json.loads(found.results)] == ["written just now"]
    assert found.extras["top"] == 8


async def test_a_page_read_alone_sees_what_others_committed(database: Database) -> None:
    await _found(database, [1])  # this thread's reader is open now
    async with database.session() as session:
        await session.execute(insert(items), [{"id": 9, "name": "committed elsewhere"}])
        await session.commit()
    found = await _found(database, [9])
    assert [item["name"] for item in json.loads(found.results)] == ["committed elsewhere"]


async def test_one_rows_object_is_the_bytes_the_model_writes(database: Database) -> None:
    async with database.session() as session:
        dialect = session.get_bind().dialect
        written = select(items.c.id, sql_text(PAGE.object_sql(dialect))).order_by(items.c.id)
        objects = [item for _, item in (await session.execute(written)).all()]
    ids = [row["id"] for row in ROWS]
    assert f"[{','.join(objects)}]".encode() == await _written_by_the_model(database, ids)


async def test_a_page_kept_by_an_index_reads_only_the_extras(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    statements: list[str] = []
    real_read = json_pages._read
    real_fetch = json_pages.fetch_on_driver

    def read(connection: Any, sql: str, ids: Any) -> Any:
        statements.append(sql)
        return real_read(connection, sql, ids)

    async def fetch(driver: Any, sql: str, arguments: list[Any]) -> Any:
        statements.append(sql)
        return await real_fetch(driver, sql, arguments)

    monkeypatch.setattr(json_pages, "_read", read)
    monkeypatch.setattr(json_pages, "fetch_on_driver", fetch)
    kept = '[{"id":1,"name":"as the index keeps it"}]'
    async with database.session() as session:
        found = await find_shown_page(session, PAGE, lambda: (5, [1], kept))
        not_kept = await find_shown_page(session, PAGE, lambda: (5, [3, 1], None))
    assert (found.count, found.results, found.extras) == (5, kept, {"top": 7, "named": 7})
    assert not_kept.results.encode() == await _written_by_the_model(database, [3, 1])
    assert not_kept.extras == {"top": 7, "named": 7}
    # The kept page read only the extras; the other its rows by id too.
    [extras_only, with_rows] = [("json_each" in sql or "unnest" in sql) for sql in statements]
    assert (extras_only, with_rows) == (False, True)


async def test_extras_kept_by_an_index_are_read_through_the_session_when_the_driver_fails(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def failing_on_the_server(*_args: Any) -> Any:
        raise ConnectionResetError("the server went away")

    def failing(*_args: Any) -> Any:
        raise ConnectionResetError("the connection went away")

    monkeypatch.setattr(json_pages, "_read", failing)
    monkeypatch.setattr(json_pages, "fetch_on_driver", failing_on_the_server)
    async with database.session() as session:
        found = await find_shown_page(session, PAGE, lambda: (1, [1], "[]"))
    assert found.extras == {"top": 7, "named": 7}
    async with database.session() as session:  # the pool still serves
        assert (await session.execute(select(func.count()).select_from(items))).scalar() == 7


def test_a_shape_of_the_first_fields_is_cut_before_the_next_key() -> None:
    first = JsonPage("items", list(PAGE.fields[:2]))
    assert first.cut_before(PAGE) == ',"price":'
    assert PAGE.cut_before(PAGE) == ""
    other = JsonPage("items", [JsonField("name")])
    with pytest.raises(ValueError, match="not the first"):
        other.cut_before(PAGE)
    with pytest.raises(ValueError, match="no extras"):
        first.extras_statement(Database("sqlite+aiosqlite://").engine.dialect)
