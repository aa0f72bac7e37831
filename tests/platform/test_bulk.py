"""Many rows in one statement whose SQL is the same whatever their number, on both engines."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    Uuid,
    event,
    select,
    update,
)

from bandstand.platform.bulk import insert_rows, one_of
from bandstand.platform.database import Database, new_metadata

metadata = new_metadata()
items = Table(
    "items",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("key", Uuid(), nullable=False),
    Column("name", String(40), nullable=False),
    Column("note", Text(), nullable=True),
    Column("price", Numeric(10, 2), nullable=True),
    Column("at", DateTime(timezone=True), nullable=True),
)


@pytest.fixture
async def database(database_urls: Callable[[str], str]) -> AsyncIterator[Database]:
    database = Database(database_urls("bulk"))
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield database
    await database.dispose()


def rows(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "key": uuid.UUID(int=start + n + 1),
            "name": f"item {start + n}",
            "note": None if n % 2 else "élan, “quoted”",
            "price": None if n % 3 == 0 else Decimal(f"{n}.{n % 100:02d}"),
            "at": datetime(2026, 12, 1, 12, n % 60, tzinfo=UTC),
        }
        for n in range(count)
    ]


async def stored(database: Database) -> list[dict[str, Any]]:
    async with database.session() as session:
        result = await session.execute(
            select(items.c.key, items.c.name, items.c.note, items.c.price, items.c.at).order_by(
                items.c.id
            )
        )
        return [
            {**row._asdict(), "at": row.at.replace(tzinfo=UTC) if row.at else None}
            for row in result
        ]


async def test_rows_are_stored_exactly(database: Database) -> None:
    written = rows(7)
    async with database.session() as session, session.begin():
        await insert_rows(session, items, written)
    assert await stored(database) == written


async def test_no_rows_is_no_statement(database: Database) -> None:
    async with database.session() as session, session.begin():
        await insert_rows(session, items, [])
    assert await stored(database) == []


async def test_one_statement_text_for_every_number_of_rows(database: Database, engine: str) -> None:
    texts: list[str] = []

    def record(*args: Any) -> None:
        texts.append(str(args[2]))

    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    try:
        start = 0
        for count in (1, 5, 17):
            async with database.session() as session, session.begin():
                await insert_rows(session, items, rows(count, start))
            start += count
            async with database.session() as session, session.begin():
                keys = [uuid.UUID(int=n + 1) for n in range(start - count, start)]
                await session.execute(
                    update(items).where(one_of(session, items.c.key, keys)).values(note="seen")
                )
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", record)
    inserts = {t for t in texts if t.lstrip().upper().startswith("INSERT")}
    updates = {t for t in texts if t.lstrip().upper().startswith("UPDATE")}
    if engine == "postgres":
        assert len(inserts) == 1
        assert len(updates) == 1
    assert [row["note"] for row in await stored(database)] == ["seen"] * 23


async def test_one_of_finds_exactly_the_values(database: Database) -> None:
    async with database.session() as session, session.begin():
        await insert_rows(session, items, rows(10))
    wanted = [uuid.UUID(int=n) for n in (2, 5, 9, 99)]
    async with database.session() as session:
        found = await session.execute(
            select(items.c.name).where(one_of(session, items.c.key, wanted)).order_by(items.c.id)
        )
        assert list(found.scalars()) == ["item 1", "item 4", "item 8"]
