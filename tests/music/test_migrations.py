"""Music's migration builds, on a brand-new database of each engine, exactly the schema its
models declare, with the engine-specific indexes the list and the search rely on."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from bandstand.music.models import MusicBase
from bandstand.platform.database import Database
from bandstand.platform.migrations import upgrade
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
