"""The retention job prunes old outbox rows, processed-message records and a service's own
tables in batches, keeps recent rows (and everything when a retention is 0), and runs once
across replicas on PostgreSQL. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import BigInteger, Column, DateTime, Integer, Table, func, insert, select, text

from bandstand import registry
from bandstand.platform.database import Database, new_metadata
from bandstand.platform.messaging import attach_outbox, attach_processed_messages
from bandstand.platform.retention import RetentionJob, RetentionRule, kernel_rules, lock_key
from bandstand.platform.runtime import Runtime
from bandstand.platform.settings import Settings

NOW = datetime.now(UTC)
metadata = new_metadata()
outbox = attach_outbox(metadata)
processed = attach_processed_messages(metadata)
journal = Table(
    "journal",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
)


@pytest.fixture
async def database(database_urls: Callable[[str], str]) -> AsyncIterator[Database]:
    database = Database(database_urls("retention"))
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield database
    await database.dispose()


async def add_outbox(database: Database, count: int, published_days_ago: float | None) -> None:
    published = None if published_days_ago is None else NOW - timedelta(days=published_days_ago)
    async with database.session() as session, session.begin():
        start = int((await session.execute(select(func.count()).select_from(outbox))).scalar_one())
        await session.execute(
            insert(outbox),
            [
                {
                    "message_id": f"m-{start + n}",
                    "routing_key": "test.thing.happened",
                    "body": "{}",
                    "created_at": NOW - timedelta(days=400),
                    "published_at": published,
                    "attempts": 0,
                }
                for n in range(count)
            ],
        )


async def add_processed(database: Database, prefix: str, count: int, days_ago: float) -> None:
    async with database.session() as session, session.begin():
        await session.execute(
            insert(processed),
            [
                {
                    "message_id": f"{prefix}-{n}",
                    "consumer": consumer,
                    "processed_at": NOW - timedelta(days=days_ago),
                }
                for n in range(count)
                for consumer in ("a", "b")
            ],
        )


async def rows(database: Database, table: Table) -> int:
    async with database.session() as session:
        return int((await session.execute(select(func.count()).select_from(table))).scalar_one())


def settings(**overrides: object) -> Settings:
    return Settings.model_validate(overrides)


async def test_old_rows_go_in_batches_and_recent_ones_stay(database: Database) -> None:
    await add_outbox(database, 25, published_days_ago=8)
    await add_outbox(database, 3, published_days_ago=1)
    await add_outbox(database, 4, published_days_ago=None)  # old, but not published yet
    await add_processed(database, "old", 12, days_ago=31)  # 24 rows: two consumers each
    await add_processed(database, "new", 2, days_ago=29)
    job = RetentionJob("svc", database, kernel_rules(settings()), batch_size=10)

    report = await job.run_once()

    assert not report.skipped
    assert report.deleted == {"outbox": 25, "processed_messages": 24}
    assert report.batches == {"outbox": 3, "processed_messages": 3}
    assert await rows(database, outbox) == 7
    async with database.session() as session:
        unpublished = (
            select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
        )
        assert (await session.execute(unpublished)).scalar_one() == 4
        left = (await session.execute(select(processed.c.message_id))).scalars().all()
    assert sorted(set(left)) == ["new-0", "new-1"]
    # Nothing old is left: a second run deletes nothing.
    assert (await job.run_once()).deleted == {}


async def test_zero_keeps_rows_forever(database: Database) -> None:
    await add_outbox(database, 5, published_days_ago=3000)
    await add_processed(database, "old", 5, days_ago=3000)
    rules = kernel_rules(settings(retention_outbox_days=0, retention_processed_messages_days=0))
    report = await RetentionJob("svc", database, rules, batch_size=2).run_once()
    assert report.deleted == {}
    assert await rows(database, outbox) == 5
    assert await rows(database, processed) == 10


async def test_a_service_rule_prunes_its_own_table_and_missing_tables_are_skipped(
    database: Database,
) -> None:
    async with database.session() as session, session.begin():
        await session.execute(
            insert(journal),
            [{"occurred_at": NOW - timedelta(days=days)} for days in (400, 366, 364, 1)],
        )
    missing = Table("not_here", new_metadata(), Column("id", Integer, primary_key=True))
    rules = [
        RetentionRule(journal, journal.c.occurred_at, 365),
        RetentionRule(missing, Column("at", DateTime(timezone=True)), 1),
    ]
    report = await RetentionJob("svc", database, rules).run_once()
    assert report.deleted == {"journal": 2}
    assert await rows(database, journal) == 2


@pytest.mark.postgres
@pytest.mark.parametrize("engine", ["postgres"])
async def test_only_one_replica_prunes_at_a_time_on_postgresql(
    engine: str, database: Database
) -> None:
    await add_outbox(database, 12, published_days_ago=30)
    replica_a = RetentionJob("svc", database, kernel_rules(settings()), batch_size=5)
    replica_b = RetentionJob("svc", database, kernel_rules(settings()), batch_size=5)
    assert replica_a.lock_key == replica_b.lock_key == lock_key("svc")
    assert lock_key("svc") != lock_key("other")

    # Replica A is in the middle of its run: it holds the lock on its own connection.
    async with database.engine.connect() as held:
        assert await held.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": lock_key("svc")})
        report = await replica_b.run_once()
        assert report.skipped
        assert report.deleted == {}
        assert await rows(database, outbox) == 12
        await held.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key("svc")})

    report = await replica_b.run_once()
    assert not report.skipped
    assert report.deleted == {"outbox": 12}
    # The lock is released after a run: the next runner gets it.
    assert not (await replica_a.run_once()).skipped


def test_every_service_has_the_job_and_admin_prunes_its_audit_log(tmp_path: Path) -> None:
    runtime = Runtime(Settings(data_dir=tmp_path))
    for entry in (entry for entry in registry.SERVICES if entry.has_database):
        job = entry.create_app(runtime).state.retention
        tables = {rule.table.name: rule.days for rule in job.rules}
        assert tables["outbox"] == 7
        assert tables["processed_messages"] == 30
        assert ("audit_log" in tables) == (entry.name == "admin")
        if entry.name == "admin":
            assert tables["audit_log"] == 365


@pytest.mark.postgres
@pytest.mark.parametrize("engine", ["postgres"])
async def test_of_two_concurrent_runners_only_one_prunes_on_postgresql(
    engine: str, database: Database
) -> None:
    await add_outbox(database, 9, published_days_ago=30)
    replica_a = RetentionJob("svc", database, kernel_rules(settings()), batch_size=4)
    replica_b = RetentionJob("svc", database, kernel_rules(settings()), batch_size=4)
    advisory_held = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    # A row lock of someone else's transaction stalls replica A in its first batch, with its
    # advisory lock taken.
    async with database.engine.connect() as blocker:
        transaction = await blocker.begin()
        await blocker.execute(
            select(outbox.c.id).where(outbox.c.message_id == "m-0").with_for_update()
        )
        running_a = asyncio.create_task(replica_a.run_once())
        async with asyncio.timeout(20):
            while not (await blocker.scalar(advisory_held)):
                await asyncio.sleep(0.02)
        report_b = await replica_b.run_once()
        await transaction.rollback()
    report_a = await running_a

    assert report_b.skipped
    assert report_b.deleted == {}
    assert not report_a.skipped
    assert report_a.deleted == {"outbox": 9}
    assert await rows(database, outbox) == 0
