"""Identity's migrations build, on a brand-new database of each engine, exactly the schema its
models declare."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.engine import Connection

from bandstand.identity.models import IdentityBase
from bandstand.platform.database import Database
from bandstand.platform.migrations import upgrade
from tests.identity.conftest import MIGRATIONS
from tests.support.schema import index_definitions, schema_differences

# SQLite cannot reflect expression indexes, so the comparison skips them there, saying so; the
# tests check those indexes from the database's own definitions instead.
pytestmark = [
    pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression"),
    pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index"),
]


def _index_definitions(connection: Connection) -> dict[str, str]:
    """Each index of `users` by name, as the database itself spells its definition."""
    # PostgreSQL spells `lower(username)` as `lower((username)::text)`.
    return {
        name: sql.replace("::text", "").replace("((", "(")
        for name, sql in index_definitions("users")(connection).items()
    }


def _assert_case_insensitive_unique(indexes: dict[str, str]) -> None:
    for column in ("username", "email"):
        definition = indexes[f"uq_users_{column}_lower"]
        assert definition.startswith("create unique index"), definition
        assert f"lower({column})" in definition, definition


async def test_migrations_match_the_models(database_urls: Callable[[str], str]) -> None:
    database = Database(database_urls("identity"))
    try:
        await upgrade(database, "identity", MIGRATIONS)
        await upgrade(database, "identity", MIGRATIONS)  # a second run is a no-op
        async with database.engine.connect() as connection:
            differences = await connection.run_sync(schema_differences(IdentityBase.metadata))
            indexes = await connection.run_sync(_index_definitions)
    finally:
        await database.dispose()

    assert differences == []
    _assert_case_insensitive_unique(indexes)


async def test_the_models_alone_build_the_same_unique_indexes(
    database_urls: Callable[[str], str],
) -> None:
    """`create_all` (what other tests and tools use) makes the same case-insensitive indexes."""
    database = Database(database_urls("identity"))
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(IdentityBase.metadata.create_all)
            indexes = await connection.run_sync(_index_definitions)
    finally:
        await database.dispose()

    _assert_case_insensitive_unique(indexes)
