"""Marketplace's migration builds, on a brand-new database of each engine, exactly the schema its
models declare, with the engine's own full-text index, and the database refuses a taken link."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bandstand.marketplace.models import MarketplaceBase
from bandstand.platform.database import Database
from bandstand.platform.migrations import upgrade
from tests.marketplace.conftest import MIGRATIONS
from tests.support.schema import schema_differences

# Created by the migration for one engine only; the models describe them in search.py.
NOW = datetime(2026, 12, 1, tzinfo=UTC)
ENGINE_SPECIFIC = {"instruments_fts", "ix_instruments_search"}


async def test_migrations_match_the_models(
    database_urls: Callable[[str], str], engine: str
) -> None:
    database = Database(database_urls("marketplace"))
    try:
        await upgrade(database, "marketplace", MIGRATIONS)
        await upgrade(database, "marketplace", MIGRATIONS)  # a second run is a no-op
        async with database.engine.connect() as connection:
            differences = await connection.run_sync(
                schema_differences(
                    MarketplaceBase.metadata,
                    skip_table_prefixes=("instruments_fts",),
                    skip_names=ENGINE_SPECIFIC,
                )
            )
            inspected = await connection.run_sync(
                lambda c: (
                    sorted(sa.inspect(c).get_table_names()),
                    [ix["name"] for ix in sa.inspect(c).get_indexes("instruments")],
                )
            )
    finally:
        await database.dispose()

    tables, indexes = inspected
    assert differences == []
    assert {"alembic_version_marketplace", "instruments", "outbox", "processed_messages"} <= set(
        tables
    )
    if engine == "sqlite":
        assert "instruments_fts" in tables
    else:
        assert "ix_instruments_search" in indexes


async def test_the_database_refuses_a_taken_link(database_urls: Callable[[str], str]) -> None:
    database = Database(database_urls("marketplace"))
    insert = sa.text(
        "INSERT INTO instruments (name, link, website, search_text, website_key, created_at,"
        " updated_at) VALUES ('x', 'https://l', 'w', 'x', 'w', :now, :now)"
    )
    try:
        await upgrade(database, "marketplace", MIGRATIONS)
        async with database.engine.begin() as connection:
            await connection.execute(insert, {"now": NOW})
        with pytest.raises(IntegrityError):
            async with database.engine.begin() as connection:
                await connection.execute(insert, {"now": NOW})
    finally:
        await database.dispose()
