"""PostgreSQL's index of trigrams by range of ids: a page of a frequent term asked of it holds
what the walk along the list finds, however far the estimate of where the page ends is off,
after a cursor, beside other conditions and after writes; its plan, made once for any values,
asks the index."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Integer, Text, delete, insert, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from bandstand.platform.database import Database, ServiceBase, new_metadata
from bandstand.platform.ranged_trigrams import (
    GRAMS,
    MOST_RANGES,
    RANGE_IDS,
    Span,
    grams_of,
    range_values,
    ranged_page,
    ranged_trigram_index,
    worth_ranging,
)
from bandstand.platform.text_index import FREQUENT, for_page, plans_alike
from bandstand.platform.text_search import contains_words

# The index is PostgreSQL's: SQLite reads a search's FTS5 index in id order itself.
pytestmark = pytest.mark.postgres


class RangedBase(ServiceBase):
    __abstract__ = True
    metadata = new_metadata()


class Verse(RangedBase):
    __tablename__ = "verses"
    __table_args__ = (ranged_trigram_index("ix_verses_body_ranges", "body"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[int] = mapped_column(Integer)


class Plain(RangedBase):
    """A searched table without the index."""

    __tablename__ = "plains"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    body: Mapped[str] = mapped_column(Text)


def verse(number: int) -> dict[str, Any]:
    """Every 13th verse holds "corazon", every 40th "corazones" (both match the term), every
    7th "razon" (which does not); ids leave a gap after 3,000, as deleted rows would."""
    words = [f"line {number}"]
    if number % 13 == 0:
        words.append("mi corazon")
    if number % 40 == 0:
        words.append("corazones")
    if number % 7 == 0:
        words.append("la razon")
    ident = number if number <= 3000 else number + 20_000
    return {"id": ident, "body": " ".join(words), "kind": number % 3}


@pytest.fixture
async def database(postgres_url_factory: Callable[[str], str]) -> AsyncIterator[Database]:
    database = Database(postgres_url_factory("verses"))
    async with database.engine.begin() as connection:
        await connection.run_sync(RangedBase.metadata.create_all)
        await connection.execute(insert(Verse), [verse(n) for n in range(1, 6001)])
        await connection.execute(sa.text("ANALYZE verses"))
    yield database
    await database.dispose()


def searched(*conditions: sa.ColumnElement[bool], words: str = "corazon") -> sa.Select[Any]:
    return (
        select(Verse.id).where(*contains_words(Verse.body, words), *conditions).order_by(Verse.id)
    )


async def walked_ids(
    database: Database, statement: sa.Select[Any], offset: int, limit: int
) -> list[int]:
    walked = for_page(statement, FREQUENT + 1).offset(offset).limit(limit)
    async with database.session() as session:
        return list((await session.execute(walked)).scalars())


async def ranged_ids(
    database: Database,
    statement: sa.Select[Any],
    offset: int,
    limit: int,
    *,
    after: int | None = None,
    ranges: int | None = None,
) -> list[int]:
    """The page asked of the ranges, as estimated for 500 matches among ids 1 to 26,000, or
    (`ranges`) of that many ranges from the first, whatever the page needs."""
    found = ranged_page(statement, 500, Span(1, 26_000), offset + limit, after)
    assert found is not None
    form, values = found
    if ranges is not None:
        for name in [name for name in values if name.startswith("ranged_keys_")]:
            gram = values[name][0].split(":", 1)[1]
            values[name] = [f"{number}:{gram}" for number in range(ranges)]
        values["ranged_end"] = ranges * RANGE_IDS
    if after is not None:
        form = form.where(Verse.id > after)
    async with database.session() as session:
        page = form.offset(offset).limit(limit)
        return list((await session.execute(page, values)).scalars())


@pytest.mark.parametrize(("offset", "limit"), [(0, 51), (50, 51), (150, 51), (0, 101)])
async def test_a_page_holds_what_the_walk_finds(
    database: Database, offset: int, limit: int
) -> None:
    statement = searched()
    expected = await walked_ids(database, statement, offset, limit)
    assert len(expected) == limit
    assert await ranged_ids(database, statement, offset, limit) == expected


@pytest.mark.parametrize("ranges", [0, 1, 2, 30])
@pytest.mark.parametrize("offset", [0, 150])
async def test_the_page_is_right_however_far_the_ranges_asked_reach(
    database: Database, ranges: int, offset: int
) -> None:
    """Ranges that end before the page does leave the rest to the walk; ranges past the gap in
    the ids, or past the last one, cost lookups only."""
    statement = searched()
    expected = await walked_ids(database, statement, offset, 51)
    assert await ranged_ids(database, statement, offset, 51, ranges=ranges) == expected


@pytest.mark.parametrize("after", [0, 1023, 1024, 2990, 3000, 22_999, 25_990, 30_000])
async def test_a_page_after_a_cursor_holds_what_the_walk_finds(
    database: Database, after: int
) -> None:
    statement = searched()
    expected = await walked_ids(database, statement.where(Verse.id > after), 0, 51)
    assert await ranged_ids(database, statement, 0, 51, after=after) == expected


async def test_other_conditions_and_several_words_apply_to_the_ranges_too(
    database: Database,
) -> None:
    statement = searched(Verse.kind == 1, words="mi corazon li")
    expected = await walked_ids(database, statement, 0, 51)
    assert len(expected) == 51
    assert await ranged_ids(database, statement, 0, 51) == expected


async def test_the_index_follows_inserts_updates_and_deletes(database: Database) -> None:
    statement = searched()
    async with database.session() as session:
        await session.execute(delete(Verse).where(Verse.id.in_([13, 26, 39])))
        await session.execute(update(Verse).where(Verse.id == 2).values(body="un corazon nuevo"))
        await session.execute(update(Verse).where(Verse.id == 52).values(body="sin nada"))
        await session.execute(insert(Verse), [{"id": 30_001, "body": "corazon", "kind": 0}])
        await session.commit()
    first = await walked_ids(database, statement, 0, 51)
    assert first[0] == 2
    assert 13 not in first
    assert 52 not in first
    assert await ranged_ids(database, statement, 0, 51) == first
    last = await ranged_ids(database, statement, 0, 51, after=29_000)
    assert last == [30_001]


async def test_the_keys_are_each_three_characters_behind_the_range_of_the_id(
    database: Database,
) -> None:
    async with database.session() as session:
        keys = (await session.execute(sa.text("SELECT id_range_trigrams(1025, 'abcab')"))).scalar()
    assert sorted(keys) == ["1:abc", "1:bca", "1:cab"]


async def test_the_plan_made_for_any_values_asks_the_index(database: Database) -> None:
    found = ranged_page(searched(), 500, Span(1, 26_000), 51, None)
    assert found is not None
    form, values = found
    assert plans_alike(form)
    async with database.session() as session:
        connection = await session.connection()
        await connection.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
        compiled = form.compile(dialect=connection.dialect)
        parameters = compiled.construct_params(values)
        ordered = tuple(parameters[name] for name in compiled.positiontup or ())
        plan = await connection.exec_driver_sql(f"EXPLAIN {compiled}", ordered)
        text = "\n".join(row[0] for row in plan)
    assert "ix_verses_body_ranges" in text


def test_the_trigrams_asked_are_the_first_last_and_middle_of_the_terms() -> None:
    assert grams_of(["corazon"]) == ("cor", "zon", "raz")
    assert grams_of(["ab", "corazon", "melon"]) == ("cor", "mel", "zon")
    assert grams_of(["abc"]) == ("abc",)
    assert grams_of(["ab", "x"]) == ()
    assert len(grams_of(["corazon", "melones", "piedra"])) == GRAMS


def test_the_ranges_asked_reach_past_where_the_page_is_expected_to_end() -> None:
    values = range_values(("cor",), 1000, Span(1, 100_000), 51, None)
    # 51 matches one row in 100 apart, with a margin: ids up to about 7,650.
    assert values["ranged_keys_0"] == [f"{n}:cor" for n in range(8)]
    assert values["ranged_end"] == 8 * RANGE_IDS
    assert values["ranged_after"] == 0
    assert values["ranged_rows"] == 51
    after = range_values(("cor", "zon"), 1000, Span(1, 100_000), 51, 5000)
    assert after["ranged_after"] == 5000
    assert after["ranged_keys_1"][0] == "4:zon"  # id 5,001 is in range 4
    rare = range_values(("cor",), 2, Span(1, 10_000_000), 51, None)
    assert len(rare["ranged_keys_0"]) == MOST_RANGES


def test_a_page_walks_when_it_is_expected_within_one_range() -> None:
    assert not worth_ranging(50, Span(1, 1000), 51)
    assert worth_ranging(1000, Span(1, 100_000), 51)
    assert not worth_ranging(20_000, Span(1, 100_000), 51)


def test_only_a_list_in_id_order_searching_a_ranged_column_is_ranged() -> None:
    span = Span(1, 100_000)
    assert ranged_page(searched(), 1000, span, 51, None) is not None
    descending = searched().order_by(None).order_by(Verse.id.desc())
    assert ranged_page(descending, 1000, span, 51, None) is None
    by_body = searched().order_by(None).order_by(Verse.body, Verse.id)
    assert ranged_page(by_body, 1000, span, 51, None) is None
    assert ranged_page(searched(words="ab"), 1000, span, 51, None) is None  # no trigram
    plain = select(Plain.id).where(*contains_words(Plain.body, "corazon")).order_by(Plain.id)
    assert ranged_page(plain, 1000, span, 51, None) is None
    found = ranged_page(searched(), 1000, span, 51, None)
    assert found is not None
    sql = str(found[0].compile(dialect=postgresql.dialect()))
    assert "UNION ALL" in sql
    assert sql.count("id_range_trigrams(") == 3
