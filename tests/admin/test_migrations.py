"""Admin's migration builds, on a brand-new database of each engine, exactly the schema its
models declare; a second run changes nothing."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from bandstand.admin.models import AdminBase
from bandstand.platform.database import Database
from bandstand.platform.migrations import upgrade
from tests.admin.conftest import MIGRATIONS
from tests.support.schema import schema_differences


async def test_migrations_match_the_models(database_urls: Callable[[str], str]) -> None:
    database = Database(database_urls("admin"))
    try:
        await upgrade(database, "admin", MIGRATIONS)
        await upgrade(database, "admin", MIGRATIONS)
        async with database.engine.connect() as connection:
            differences = await connection.run_sync(schema_differences(AdminBase.metadata))
            tables = await connection.run_sync(lambda c: sorted(sa.inspect(c).get_table_names()))
    finally:
        await database.dispose()

    assert differences == []
    assert tables == [
        "alembic_version_admin",
        "audit_counts",
        "audit_log",
        "counters",
        "daily_metrics",
        "outbox",
        "settings",
        "song_popularity",
    ]
