"""Concerts's migration builds, on a brand-new database of each engine, exactly the schema its
models declare, and the constraints hold."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bandstand.concerts.models import ConcertsBase
from bandstand.platform.database import Database
from bandstand.platform.migrations import upgrade
from tests.concerts.conftest import MIGRATIONS
from tests.support.schema import schema_differences


async def test_migrations_match_the_models(database_urls: Callable[[str], str]) -> None:
    database = Database(database_urls("concerts"))
    try:
        await upgrade(database, "concerts", MIGRATIONS)
        await upgrade(database, "concerts", MIGRATIONS)  # a second run is a no-op
        async with database.engine.connect() as connection:
            differences = await connection.run_sync(schema_differences(ConcertsBase.metadata))
            tables = await connection.run_sync(lambda c: sorted(sa.inspect(c).get_table_names()))
    finally:
        await database.dispose()

    assert differences == []
    assert tables == [
        "alembic_version_concerts",
        "attendance",
        "concerts",
        "outbox",
        "processed_messages",
    ]


NOW = datetime(2027, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO concerts (concert_name, duration, city, city_key, date, venue, description,"
        " created_at, updated_at) VALUES ('x', 0, 'c', 'c', :now, '', '', :now, :now)",
        "INSERT INTO attendance (user_id, concert_id, status, updated_at)"
        " VALUES (1, 1, 'Maybe', :now)",
        "INSERT INTO attendance (user_id, concert_id, status, updated_at)"
        " VALUES (1, 999, 'Attending', :now)",
    ],
)
async def test_the_database_refuses_what_the_api_refuses(
    database_urls: Callable[[str], str], statement: str
) -> None:
    database = Database(database_urls("concerts"))
    try:
        await upgrade(database, "concerts", MIGRATIONS)
        async with database.engine.begin() as connection:
            await connection.execute(
                sa.text(
                    "INSERT INTO concerts (concert_name, duration, city, city_key, date, venue,"
                    " description, created_at, updated_at)"
                    " VALUES ('ok', 60, 'c', 'c', :now, '', '', :now, :now)"
                ),
                {"now": NOW},
            )
        with pytest.raises(IntegrityError):
            async with database.engine.begin() as connection:
                await connection.execute(sa.text(statement), {"now": NOW})
    finally:
        await database.dispose()
