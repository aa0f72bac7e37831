"""JSON text kept in the row by the database (`platform.kept_json`): written by triggers on
insert and on a change of its fields, on both engines; a page reading it is the bytes the model
writes, also for rows whose kept text is missing; the runs a model keeps are checked against it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import Column, Select, Table, Text, insert, select, text, update

from bandstand.platform.database import Database, new_metadata
from bandstand.platform.json_rows import JsonRows, read_json
from bandstand.platform.json_text import JsonField
from bandstand.platform.kept_json import KeptJson, KeptRun, keep_json
from tests.platform.test_json_rows import ROWS, SONG_ROWS, Song, _compare, songs

metadata = new_metadata()
kept_songs = Table(
    "kept_songs",
    metadata,
    *(Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable) for c in songs.c),
    Column("head", Text),
    Column("tail", Text),
)
KEPT = KeptJson(
    "kept_songs",
    (
        KeptRun("head", SONG_ROWS.fields[:4]),  # id, title, price (money), released (date)
        KeptRun("tail", SONG_ROWS.fields[4:5]),  # at (utc)
    ),
)
keep_json(kept_songs, KEPT)
KEPT_ROWS = JsonRows.of(Song, kept=KEPT)


@pytest.fixture
async def database(database_urls: Callable[[str], str]) -> AsyncIterator[Database]:
    database = Database(database_urls("kept_json"))
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
        await connection.execute(insert(kept_songs), ROWS)
    yield database
    await database.dispose()


def _listing(mine: bool = False) -> Select[Any]:
    columns: list[Any] = [*kept_songs.c]
    if mine:
        columns.append((kept_songs.c.plays > 2).label("mine"))
    return select(*columns).order_by(kept_songs.c.title.desc(), kept_songs.c.id.desc())


async def _kept_text(database: Database, song_id: int) -> tuple[str, str]:
    async with database.session() as session:
        row = (
            await session.execute(
                select(kept_songs.c.head, kept_songs.c.tail).where(kept_songs.c.id == song_id)
            )
        ).one()
    return row.head, row.tail


def _model_text(song_id: int, **changes: Any) -> str:
    """The model's JSON of a row of ROWS, without its braces."""
    row = {**next(row for row in ROWS if row["id"] == song_id), **changes}
    return Song.model_validate(row).model_dump_json()[1:-1]


@pytest.mark.parametrize(("size", "offset"), [(10, 0), (50, 0), (5, 33)])
async def test_a_page_of_kept_text_is_the_bytes_the_model_writes(
    database: Database, size: int, offset: int
) -> None:
    statement = _listing(mine=True).limit(size + 1).offset(offset)
    await _compare(database, statement, size, KEPT_ROWS)


async def test_a_page_reads_the_kept_text(database: Database) -> None:
    async with database.session() as session:
        marked = update(kept_songs).where(kept_songs.c.id == 4).values(head='"id":4,"kept":1')
        await session.execute(marked)  # the head alone: no trigger writes it again
        await session.commit()
        statement = _listing().where(kept_songs.c.id == 4).limit(2)
        read = await read_json(session, statement, None, KEPT_ROWS, 1, [])
    assert read is not None
    assert json.loads(read.results)[0]["kept"] == 1


async def test_the_triggers_write_the_runs_on_insert_and_on_a_change_of_their_fields(
    database: Database,
) -> None:
    for song_id in (1, 5, 7):
        head, tail = await _kept_text(database, song_id)
        assert f"{head},{tail}" in _model_text(song_id)
    changed = {"title": 'now "quoted" ☃', "at": ROWS[6]["at"].replace(microsecond=0)}
    async with database.session() as session:
        await session.execute(update(kept_songs).where(kept_songs.c.id == 5).values(**changed))
        await session.commit()
    head, tail = await _kept_text(database, 5)
    assert f"{head},{tail}" in _model_text(5, **changed)
    assert json.loads("{" + tail + "}") == {"at": "2026-03-04T05:06:07Z"}
    await _compare(database, _listing().limit(38), 37, KEPT_ROWS)


async def test_rows_whose_kept_text_is_missing_are_written_from_their_columns(
    database: Database,
) -> None:
    async with database.session() as session:
        missing = update(kept_songs).where(kept_songs.c.id % 3 == 0)
        await session.execute(missing.values(head=None, tail=None))
        await session.commit()
    await _compare(database, _listing(mine=True).limit(38), 37, KEPT_ROWS)


async def test_fill_writes_the_runs_of_rows_already_there(database: Database) -> None:
    async with database.engine.begin() as connection:
        dialect = connection.dialect.name
        await connection.execute(update(kept_songs).values(head=None, tail=None))
        await connection.execute(text(KEPT.fill(dialect)))
    head, tail = await _kept_text(database, 7)
    assert f"{head},{tail}" in _model_text(7)


async def test_dropped_triggers_write_nothing_more(database: Database) -> None:
    async with database.engine.begin() as connection:
        for statement in KEPT.drop(connection.dialect.name):
            await connection.execute(text(statement))
        await connection.execute(update(kept_songs).where(kept_songs.c.id == 2).values(title="x"))
    head, _tail = await _kept_text(database, 2)
    assert '"title":"x"' not in head


def test_runs_must_be_runs_of_the_model() -> None:
    class Shorter(BaseModel):
        id: int
        title: str

    reordered = KeptJson(
        "kept_songs", (KeptRun("head", (SONG_ROWS.fields[1], SONG_ROWS.fields[0])),)
    )
    for model, kept in ((Song, reordered), (Shorter, KEPT)):
        with pytest.raises(TypeError):
            JsonRows.of(model, kept=kept)
    with pytest.raises(ValueError, match="identifier"):
        KeptRun("head; DROP TABLE x", (JsonField("id"),))
    with pytest.raises(ValueError, match="identifier"):
        KeptJson('kept"songs', KEPT.runs)
    with pytest.raises(ValueError, match="not kept by"):
        keep_json(songs, KEPT)
