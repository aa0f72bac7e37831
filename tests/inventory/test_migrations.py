"""Inventory's migration builds, on a brand-new database of each engine, exactly the schema its
models declare, and the database refuses what the API refuses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bandstand.inventory.models import InventoryBase
from bandstand.platform.database import Database
from bandstand.platform.migrations import upgrade
from tests.inventory.conftest import MIGRATIONS
from tests.support.schema import index_definitions, schema_differences, sqlite_objects

# Alembic compares the NULLS FIRST index as an expression only by name, saying so; the tests read
# its definition and the trigram index's from the database.
pytestmark = [
    pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression"),
    pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index"),
]


TRIGRAMS = "movies_title_key_trigrams"


def _check_engine_indexes(dialect: str, indexes: dict[str, str], objects: set[str]) -> None:
    assert "ix_movies_title_key_id" in indexes
    if dialect == "postgresql":
        assert "using gin (title_key gin_trgm_ops)" in indexes["ix_movies_title_key_trgm"]
        assert "(release_year nulls first, id)" in indexes["ix_movies_release_year_nulls_first_id"]
        assert "ix_movies_release_year_id" not in indexes
    else:
        assert "ix_movies_release_year_id" in indexes
        assert "ix_movies_title_key_trgm" not in indexes
        triggers = {f"{TRIGRAMS}_{kind}" for kind in ("insert", "delete", "update")}
        assert objects >= {TRIGRAMS, *triggers}


NOW = datetime(2027, 1, 1, tzinfo=UTC)
MOVIE = (
    "INSERT INTO movies (title, title_key, description, release_year, duration_minutes,"
    " created_at, updated_at) VALUES ('ok', 'ok', 'd', {year}, {minutes}, :now, :now)"
)


async def test_migrations_match_the_models(database_urls: Callable[[str], str]) -> None:
    database = Database(database_urls("inventory"))
    try:
        await upgrade(database, "inventory", MIGRATIONS)
        await upgrade(database, "inventory", MIGRATIONS)  # a second run is a no-op
        async with database.engine.connect() as connection:
            differences = await connection.run_sync(schema_differences(InventoryBase.metadata))
            tables = await connection.run_sync(lambda c: sorted(sa.inspect(c).get_table_names()))
            indexes = await connection.run_sync(index_definitions("movies"))
            dialect = connection.dialect.name
            objects = await connection.run_sync(sqlite_objects) if dialect == "sqlite" else set()
    finally:
        await database.dispose()

    assert differences == []
    own = [table for table in tables if not table.startswith(TRIGRAMS)]
    assert own == ["alembic_version_inventory", "movie_genres", "movies", "outbox"]
    _check_engine_indexes(dialect, indexes, objects)


async def test_the_models_alone_build_the_same_engine_indexes(
    database_urls: Callable[[str], str],
) -> None:
    database = Database(database_urls("inventory"))
    try:
        async with database.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                await connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
            await connection.run_sync(InventoryBase.metadata.create_all)
            indexes = await connection.run_sync(index_definitions("movies"))
            dialect = connection.dialect.name
            objects = await connection.run_sync(sqlite_objects) if dialect == "sqlite" else set()
    finally:
        await database.dispose()

    _check_engine_indexes(dialect, indexes, objects)


REFUSED = [
    MOVIE.format(year=1869, minutes=90),
    MOVIE.format(year=2101, minutes=90),
    MOVIE.format(year=2000, minutes=0),
    "INSERT INTO movie_genres (movie_id, position, name, name_key) VALUES (999, 0, 'g', 'g')",
    "INSERT INTO movie_genres (movie_id, position, name, name_key) VALUES (1, 1, 'G', 'g')",
    "INSERT INTO movie_genres (movie_id, position, name, name_key) VALUES (1, -1, 'h', 'h')",
]


async def test_the_database_refuses_what_the_api_refuses(
    database_urls: Callable[[str], str],
) -> None:
    database = Database(database_urls("inventory"))
    try:
        await upgrade(database, "inventory", MIGRATIONS)
        async with database.engine.begin() as connection:
            await connection.execute(sa.text(MOVIE.format(year=2000, minutes=90)), {"now": NOW})
            await connection.execute(
                sa.text(
                    "INSERT INTO movie_genres (movie_id, position, name, name_key)"
                    " VALUES (1, 0, 'g', 'g')"
                )
            )
        for statement in REFUSED:
            with pytest.raises(IntegrityError):
                async with database.engine.begin() as connection:
                    await connection.execute(sa.text(statement), {"now": NOW})
    finally:
        await database.dispose()
