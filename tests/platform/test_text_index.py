"""The trigram index behind substring search: on SQLite an FTS5 table kept by triggers, which the
condition asks (and finds what `LIKE` finds, special characters and short terms included); on
PostgreSQL a GIN index the same condition uses as `LIKE`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Integer, Text, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from bandstand.platform.database import Database, ServiceBase, new_metadata
from bandstand.platform.text_index import (
    FREQUENT,
    driven_by_index,
    for_page,
    plans_alike,
    searched_table,
    trigram_index,
    trigram_table,
    trigram_tables,
)
from bandstand.platform.text_search import contains, contains_words


class IndexBase(ServiceBase):
    __abstract__ = True
    metadata = new_metadata()


class Tune(IndexBase):
    __tablename__ = "tunes"
    __table_args__ = (trigram_index("ix_tunes_key_trgm", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(Text)


KEYS = [
    "cafe noir",
    "noir cafe",
    "100% cafe",
    "a_b",
    "axb",
    r"back\slash",
    "star*light",
    "what?",
    "[bracket]",
    "corazon de melon",
    "ab",
]


@pytest.fixture
async def database(database_urls: Callable[[str], str]) -> AsyncIterator[Database]:
    database = Database(database_urls("tunes"))
    async with database.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        await connection.run_sync(IndexBase.metadata.create_all)
        await connection.execute(insert(Tune), [{"key": key} for key in KEYS])
    yield database
    await database.dispose()


async def found(
    database: Database,
    *conditions: sa.ColumnElement[bool],
    walked: bool = False,
    driven: bool = False,
    descending: bool = False,
) -> list[str]:
    """The keys the conditions keep in id order, asked of the index, or (`walked`) tested row by
    row, or (`driven`, on SQLite) read in the index's order."""
    async with database.session() as session:
        order = Tune.id.desc() if descending else Tune.id.asc()
        statement = select(Tune.key).where(*conditions).order_by(order)
        if walked:
            statement = for_page(statement, FREQUENT + 1)
        if driven and session.get_bind().dialect.name == "sqlite":
            statement = driven if (driven := driven_by_index(statement)) is not None else statement
        return list((await session.execute(statement)).scalars())


def test_the_declaration_names_its_fts_table() -> None:
    assert trigram_table("tunes", "key") in trigram_tables()


async def test_the_condition_asks_the_index_on_sqlite(database: Database) -> None:
    statement = select(Tune.id).where(contains(Tune.key, "cafe"))
    async with database.session() as session:
        dialect = session.get_bind().dialect
    sql = str(statement.compile(dialect=dialect))
    if dialect.name == "sqlite":
        assert "tunes_key_trigrams" in sql
        assert "MATCH" in sql
    else:
        assert "LIKE" in sql
        assert "trigrams" not in sql
    assert "= 1" not in sql  # a condition as it is, not a value compared with true


async def test_sqlite_finds_the_rows_of_the_matches_by_their_ids(database: Database) -> None:
    """The index's matches drive the read, not a scan of the table testing each row."""
    statement = select(Tune.id).where(contains(Tune.key, "cafe")).order_by(Tune.id).limit(5)
    async with database.session() as session:
        if session.get_bind().dialect.name != "sqlite":
            return
        compiled = statement.compile(dialect=session.get_bind().dialect)
        values = tuple(compiled.params[name] for name in compiled.positiontup or ())
        connection = await session.connection()
        plan = (await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", values)).all()
    details = [row[3] for row in plan]
    assert any("SEARCH tunes USING INTEGER PRIMARY KEY" in detail for detail in details)
    assert not any(detail == "SCAN tunes" for detail in details)


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("cafe", ["cafe noir", "noir cafe", "100% cafe"]),
        ("100%", ["100% cafe"]),
        ("a_b", ["a_b"]),
        ("k\\s", [r"back\slash"]),
        ("r*l", ["star*light"]),
        ("t?", ["what?"]),
        ("[bra", ["[bracket]"]),
        ("ab", ["ab"]),
        ("b", ["a_b", "axb", r"back\slash", "[bracket]", "ab"]),
        ("melon", ["corazon de melon"]),
        ("zzz", []),
    ],
)
async def test_special_characters_and_short_terms_are_literal(
    database: Database, term: str, expected: list[str]
) -> None:
    assert await found(database, contains(Tune.key, term)) == expected


async def test_the_index_follows_inserts_updates_and_deletes(database: Database) -> None:
    async with database.unit_of_work() as session:
        await session.execute(update(Tune).where(Tune.key == "cafe noir").values(key="te verde"))
        await session.execute(delete(Tune).where(Tune.key == "noir cafe"))
        await session.execute(insert(Tune).values(key="cafe con leche"))
    assert await found(database, *contains_words(Tune.key, "cafe")) == [
        "100% cafe",
        "cafe con leche",
    ]
    assert await found(database, contains(Tune.key, "verde")) == ["te verde"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("de melon", ["corazon de melon"]),
        ("ab cafe", []),
        ("no cafe", ["cafe noir", "noir cafe"]),
        ("cafe no", ["cafe noir", "noir cafe"]),
        ("b a", ["a_b", "axb", r"back\slash", "[bracket]", "ab"]),
    ],
)
async def test_a_short_word_before_a_longer_one_is_found_without_a_crash(
    database: Database, query: str, expected: list[str]
) -> None:
    # SQLite 3.40's FTS5 trigram table crashed the process when asked GLOB '*de*' then
    # GLOB '*melon*': a term under three characters is tested with LIKE instead.
    assert await found(database, *contains_words(Tune.key, query)) == expected


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(term=st.text(alphabet="abc_%*?[\\ ", min_size=1, max_size=4))
async def test_it_finds_what_a_substring_test_finds(database: Database, term: str) -> None:
    expected = [key for key in KEYS if term in key]
    assert await found(database, contains(Tune.key, term)) == expected
    assert await found(database, contains(Tune.key, term), walked=True) == expected
    assert await found(database, contains(Tune.key, term), driven=True) == expected
    backwards = await found(database, contains(Tune.key, term), driven=True, descending=True)
    assert backwards == list(reversed(expected))


def test_a_page_of_a_frequent_term_walks_the_order_instead() -> None:
    statement = select(Tune.key).where(*contains_words(Tune.key, "cafe noir")).order_by(Tune.id)
    dialect = sqlite.dialect()
    rare = str(for_page(statement, FREQUENT).compile(dialect=dialect))
    frequent = str(for_page(statement, FREQUENT + 1).compile(dialect=dialect))
    assert rare.count("MATCH") == 1  # both words in one question
    assert "tunes_key_trigrams" in rare
    assert "trigrams" not in frequent
    assert frequent.count("instr(") == 2  # SQLite's own test of a substring, cheaper than LIKE
    on_postgres = str(for_page(statement, FREQUENT + 1).compile(dialect=postgresql.dialect()))
    assert on_postgres.count("strpos(") == 2  # which no index answers: a plan for any term
    assert plans_alike(for_page(statement, FREQUENT + 1))
    assert not plans_alike(for_page(statement, FREQUENT))
    assert plans_alike(select(Tune.key).order_by(Tune.id))
    assert not plans_alike(select(Tune.key).where(Tune.id > 3))


def test_a_term_matched_by_much_of_a_small_table_walks_it_too() -> None:
    statement = select(Tune.key).where(*contains_words(Tune.key, "cafe")).order_by(Tune.id)
    dialect = sqlite.dialect()

    def walks(matches: int, rows: int | None) -> bool:
        return "trigrams" not in str(for_page(statement, matches, rows).compile(dialect=dialect))

    assert walks(50, 1000)  # one row in 20
    assert not walks(49, 1000)
    assert not walks(50, None)  # the table's size not known: the count alone decides
    assert not walks(50, 1_000_000)


def test_the_searched_table_is_found_in_the_conditions() -> None:
    searched = select(Tune.key).where(Tune.id > 1, *contains_words(Tune.key, "noir cafe"))
    assert searched_table(searched) is Tune.__table__
    assert searched_table(select(Tune.key).where(Tune.id > 1)) is None
    assert searched_table(select(Tune.key)) is None


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("no cafe", ["cafe noir", "noir cafe"]),
        ("cafe no", ["cafe noir", "noir cafe"]),
        ("b k\\s", [r"back\slash"]),
        ("ab b", ["ab"]),
        ("de melon co", ["corazon de melon"]),
    ],
)
async def test_a_short_word_beside_a_longer_one_is_tested_on_the_row(
    database: Database, words: str, expected: list[str]
) -> None:
    # Asked of SQLite 3.40's trigram index together, they crashed the process.
    assert await found(database, *contains_words(Tune.key, words)) == expected


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("words", ["cafe", "no cafe", "melon de", "zzz"])
async def test_a_list_in_id_order_is_read_in_its_index_order(
    database: Database, words: str, descending: bool
) -> None:
    """On SQLite the index drives the read and gives the order (no sort), with the list's other
    conditions and a cursor's bound on the id kept; the rows are those of the plain condition."""
    order = Tune.id.desc() if descending else Tune.id.asc()
    bound = Tune.id < 10 if descending else Tune.id > 1
    for conditions in ([], [bound], [bound, Tune.key != "noir cafe"]):
        statement = (
            select(Tune.id, Tune.key)
            .where(*conditions, *contains_words(Tune.key, words))
            .order_by(order)
        )
        driven = driven_by_index(statement)
        assert driven is not None
        async with database.session() as session:
            dialect = session.get_bind().dialect
            if dialect.name != "sqlite":
                return
            expected = (await session.execute(statement)).all()
            assert (await session.execute(driven)).all() == expected
            compiled = driven.compile(dialect=dialect)
            values = tuple(compiled.params[name] for name in compiled.positiontup or ())
            connection = await session.connection()
            plan = (
                await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", values)
            ).all()
        details = [row[3] for row in plan]
        assert details[0].startswith("SCAN tunes_key_trigrams VIRTUAL TABLE"), details
        assert not any("TEMP B-TREE" in detail for detail in details), details


def test_only_a_list_in_id_order_searching_one_indexed_column_is_driven() -> None:
    searched = contains_words(Tune.key, "cafe")
    assert driven_by_index(select(Tune.key).where(*searched).order_by(Tune.id)) is not None
    assert driven_by_index(select(Tune.key).where(*searched).order_by(Tune.key)) is None
    two_keys = select(Tune.key).where(*searched).order_by(Tune.id, Tune.key)
    assert driven_by_index(two_keys) is None
    assert driven_by_index(select(Tune.key).where(Tune.id > 1).order_by(Tune.id)) is None
    twice = [*searched, *contains_words(Tune.key, "noir")]
    assert driven_by_index(select(Tune.key).where(*twice).order_by(Tune.id)) is None
    too_short = contains_words(Tune.key, "ab")  # no term the index can find
    assert driven_by_index(select(Tune.key).where(*too_short).order_by(Tune.id)) is None


async def test_a_term_with_a_nul_is_tested_on_the_rows(database: Database) -> None:
    """A NUL would end the index's phrase early, where SQLite reads it as a C string (a syntax
    error): such a term is not asked of the index."""
    condition = contains(Tune.key, "caf\x00e")
    async with database.session() as session:
        dialect = session.get_bind().dialect
    assert "MATCH" not in str(select(Tune.id).where(condition).compile(dialect=dialect))
    if dialect.name == "sqlite":  # PostgreSQL takes no NUL in text at all (the API refuses it)
        assert await found(database, condition) == []
