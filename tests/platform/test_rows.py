"""What every repository shares (added and deleted rows are flushed at once, so the database's
refusals surface in the use case; grouped counts with a 0 for absent keys), and the two halves
of a partial update."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import DateTime, Integer, String, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from bandstand.platform.database import Database, ServiceBase, new_metadata
from bandstand.platform.rows import (
    RowWrites,
    Timestamps,
    apply_changes,
    changed_fields,
    column_values,
    counts_by_key,
)

EARLIER = datetime(2026, 1, 1, tzinfo=UTC)


class RowsBase(ServiceBase):
    __abstract__ = True
    metadata = new_metadata()


class Item(RowsBase):
    __tablename__ = "items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    note: Mapped[str | None] = mapped_column(String(40), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ItemRepository(RowWrites[Item]):
    pass


@pytest.fixture
async def database(database_urls: Callable[[str], str]) -> AsyncIterator[Database]:
    database = Database(database_urls("rows"))
    async with database.engine.begin() as connection:
        await connection.run_sync(RowsBase.metadata.create_all)
    yield database
    await database.dispose()


async def test_add_and_delete_flush_at_once(database: Database) -> None:
    items = ItemRepository()
    async with database.session() as session:
        item = await items.add(session, Item(name="a", updated_at=EARLIER))
        assert item.id is not None
        with pytest.raises(IntegrityError):
            await items.add(session, Item(name="a", updated_at=EARLIER))
        await session.rollback()

        item = await items.add(session, Item(name="b", updated_at=EARLIER))
        await items.delete(session, item)
        assert (await session.execute(select(Item.id))).all() == []


async def test_counts_by_key_gives_zero_for_keys_without_rows(database: Database) -> None:
    items = ItemRepository()
    async with database.session() as session:
        first = await items.add(session, Item(name="a", updated_at=EARLIER))
        second = await items.add(session, Item(name="b", updated_at=EARLIER))
        keys = [first.id, second.id, second.id + 1]
        statement = select(Item.id, func.count()).where(Item.id.in_(keys)).group_by(Item.id)

        assert await counts_by_key(session, statement, keys) == {
            first.id: 1,
            second.id: 1,
            second.id + 1: 0,
        }
        assert await counts_by_key(session, statement, []) == {}


def test_changed_fields_are_those_that_differ_in_the_order_sent() -> None:
    item = Item(name="a", note=None, updated_at=EARLIER)

    assert changed_fields(item, {"note": "n", "name": "a"}) == ["note"]
    assert changed_fields(item, {"note": None}) == []
    assert changed_fields(item, {"note": "n", "name": "b"}) == ["note", "name"]


def test_apply_changes_sets_the_named_fields_and_stamps_the_row() -> None:
    item = Item(name="a", note=None, updated_at=EARLIER)

    apply_changes(item, {"name": "b", "note": "left out"}, ["name"])

    assert (item.name, item.note) == ("b", None)
    assert item.updated_at > EARLIER


class Note(RowsBase, Timestamps):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(String(40))


async def test_a_new_row_was_last_changed_when_it_was_created(database: Database) -> None:
    async with database.engine.begin() as connection:
        await connection.run_sync(RowsBase.metadata.create_all)
    async with database.session() as session:
        notes = [Note(text=str(number)) for number in range(3)]
        dated = Note(text="dated", created_at=EARLIER)
        session.add_all([*notes, dated])
        await session.flush()
        for note in notes:
            assert note.updated_at == note.created_at
            assert note.created_at > EARLIER
        assert dated.updated_at == EARLIER


async def test_column_values_are_the_mapped_columns(database: Database) -> None:
    async with database.session() as session:
        item = await ItemRepository().add(session, Item(name="a", note=None, updated_at=EARLIER))
        assert column_values(item) == {
            "id": item.id,
            "name": "a",
            "note": None,
            "updated_at": item.updated_at,
        }
