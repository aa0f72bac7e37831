"""Music's migration builds, on a brand-new database of each engine, exactly the schema its
models declare, with the engine-specific indexes the list and the search rely on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from alembic import command

from bandstand.music.models import MusicBase, Song
from bandstand.music.schemas import SongRead
from bandstand.platform.database import Database
from bandstand.platform.migrations import alembic_config, upgrade
from tests.music.conftest import MIGRATIONS
from tests.support.schema import index_definitions, schema_differences, sqlite_objects

# Alembic compares the NULLS FIRST index as an expression only by name, saying so; the tests read
# its definition and the trigram index's from the database.
pytestmark = [
    pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression"),
    pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index"),
]


TRIGRAM_OBJECTS = {
    f"{table}_search_text_trigrams{suffix}"
    for table in ("songs", "albums")
    for suffix in ("", "_insert", "_delete", "_update")
}


def _check_engine_indexes(dialect: str, indexes: dict[str, str], objects: set[str]) -> None:
    for name in ("ix_songs_like_count_id", "ix_songs_title_id", "ix_songs_genre_id"):
        assert name in indexes
    if dialect == "postgresql":
        assert "using gin (search_text gin_trgm_ops)" in indexes["ix_songs_search_text_trgm"]
        assert "(release_date nulls first, id)" in indexes["ix_songs_release_date_nulls_first_id"]
        assert "ix_songs_search_text" not in indexes
    else:
        assert "ix_songs_release_date_id" in indexes
        assert "ix_songs_search_text_trgm" not in indexes
        assert "ix_songs_search_text" not in indexes
        assert objects >= TRIGRAM_OBJECTS


async def test_migrations_match_the_models(database_urls: Callable[[str], str]) -> None:
    database = Database(database_urls("music"))
    try:
        await upgrade(database, "music", MIGRATIONS)
        await upgrade(database, "music", MIGRATIONS)  # a second run is a no-op
        async with database.engine.connect() as connection:
            differences = await connection.run_sync(schema_differences(MusicBase.metadata))
            indexes = await connection.run_sync(index_definitions("songs"))
            dialect = connection.dialect.name
            objects = await connection.run_sync(sqlite_objects) if dialect == "sqlite" else set()
    finally:
        await database.dispose()

    assert differences == []
    _check_engine_indexes(dialect, indexes, objects)


async def test_the_models_alone_build_the_same_engine_indexes(
    database_urls: Callable[[str], str],
) -> None:
    database = Database(database_urls("music"))
    try:
        async with database.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                await connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
            await connection.run_sync(MusicBase.metadata.create_all)
            indexes = await connection.run_sync(index_definitions("songs"))
            dialect = connection.dialect.name
            objects = await connection.run_sync(sqlite_objects) if dialect == "sqlite" else set()
    finally:
        await database.dispose()

    _check_engine_indexes(dialect, indexes, objects)


async def test_songs_already_there_get_their_kept_text_and_a_downgrade_takes_it_away(
    database_urls: Callable[[str], str],
) -> None:
    database = Database(database_urls("music"))
    song = {
        "id": 3,
        "title": 'A "quoted" Café',
        "artist": "Ana",
        "genre": "rock",
        "file_url": "https://cdn.example.com/3.mp3",
        "duration": 200,
        "description": None,
        "cover_image_url": None,
        "release_date": dt.date(1999, 2, 3),
        "like_count": 0,
        "created_at": dt.datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=dt.UTC),
        "updated_at": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    }
    old_columns = [column for column in Song.__table__.c if column.name in {*song, "search_text"}]
    old_songs = sa.Table("songs", sa.MetaData(), *(sa.Column(c.name, c.type) for c in old_columns))
    try:
        await upgrade(database, "music", MIGRATIONS, "0004_music")
        async with database.engine.begin() as connection:
            await connection.execute(sa.insert(old_songs), [{**song, "search_text": "a"}])
        await upgrade(database, "music", MIGRATIONS)
        async with database.engine.connect() as connection:
            kept = (await connection.execute(sa.select(Song.json_head, Song.json_tail))).one()
        await _downgrade(database, "0004_music")
        async with database.engine.begin() as connection:
            columns = await connection.run_sync(
                lambda sync: {column["name"] for column in sa.inspect(sync).get_columns("songs")}
            )
            await connection.execute(sa.insert(old_songs), [{**song, "id": 4, "search_text": "b"}])
    finally:
        await database.dispose()

    written = SongRead.model_validate({**song, "liked_by_me": None}).model_dump_json()
    assert written.startswith("{" + kept.json_head + ',"like_count":0')
    assert written.endswith("," + kept.json_tail + "}")
    assert not columns & {"json_head", "json_tail"}


async def _downgrade(database: Database, revision: str) -> None:
    config = alembic_config("music", MIGRATIONS)

    def run(connection: sa.Connection) -> None:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with database.engine.begin() as connection:
        await connection.run_sync(run)
