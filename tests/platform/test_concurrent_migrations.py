"""Replicas of a service starting together migrate its PostgreSQL database one at a time."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from bandstand.platform.database import Database
from bandstand.platform.migrations import upgrade
from tests.music.conftest import MIGRATIONS

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression"),
]


async def test_replicas_migrating_at_once_both_succeed(postgres_url: str) -> None:
    replicas = [Database(postgres_url), Database(postgres_url)]
    try:
        # Without the lock, both would create the same tables and one would fail.
        await asyncio.gather(*(upgrade(db, "music", MIGRATIONS) for db in replicas))
        async with replicas[0].engine.connect() as connection:
            versions = await connection.scalar(
                sa.text("SELECT count(*) FROM alembic_version_music")
            )
        assert versions == 1
    finally:
        for database in replicas:
            await database.dispose()
