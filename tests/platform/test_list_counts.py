"""A list's count and anchors are kept under what they are made of (its rows, their sort keys):
lists that differ only by their columns share them, lists with other conditions do not."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import Column, Integer, String, Table, literal, select

from bandstand.platform.database import Database, new_metadata
from bandstand.platform.keyset import Ordering
from bandstand.platform.list_counts import rows_counted, statement_key
from bandstand.platform.page_statements import keys_listed
from bandstand.platform.pagination import kept_statements

metadata = new_metadata()
tracks = Table(
    "tracks", metadata, Column("id", Integer, primary_key=True), Column("name", String(20))
)


@pytest.fixture
async def database(database_urls: Callable[[str], str]) -> AsyncIterator[Database]:
    database = Database(database_urls("counts"))
    yield database
    await database.dispose()


async def test_a_count_is_keyed_by_the_rows_it_counts(database: Database) -> None:
    listed = select(tracks.c.id, tracks.c.name).order_by(tracks.c.id)
    for_alice = listed.add_columns(literal(7).label("viewer"))
    for_bob = listed.add_columns(literal(8).label("viewer"))
    other_rows = listed.where(tracks.c.name == "x")
    async with database.session() as session:

        def key(statement: object) -> str:
            return statement_key(session, rows_counted(statement))  # type: ignore[arg-type]

        assert key(listed) == key(for_alice) == key(for_bob)
        assert key(other_rows) != key(listed)
        assert key(listed.where(tracks.c.name == "y")) != key(other_rows)
        assert rows_counted(listed) is rows_counted(listed)  # built once per statement


async def test_anchors_are_keyed_by_the_sort_keys_of_the_rows(database: Database) -> None:
    listed = select(tracks.c.id, tracks.c.name).order_by(tracks.c.name, tracks.c.id)
    for_alice = listed.add_columns(literal(7).label("viewer"))
    async with database.session() as session:
        dialect = session.bind.dialect.name  # type: ignore[union-attr]
        ordering = Ordering.of(listed, dialect)
        assert ordering is not None

        def key(statement: Any) -> str:
            return statement_key(session, keys_listed(statement, ordering))

        assert key(listed) == key(for_alice)
        assert key(listed.where(tracks.c.name == "x")) != key(listed)


def test_a_lists_statements_are_kept_built_by_their_arguments() -> None:
    built: list[str | None] = []

    @kept_statements
    def named(name: str | None) -> Any:
        built.append(name)
        statement = select(tracks.c.id).order_by(tracks.c.id)
        return statement if name is None else statement.where(tracks.c.name == name)

    assert named("x") is named("x")
    assert named("y") is not named("x")
    assert named(None) is named(None)
    assert built == ["x", "y", None]
