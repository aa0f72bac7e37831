"""Retention: rows past their keeping time are deleted by a scheduled job in every service.

The kernel's rules (`kernel_rules`): published outbox rows after `retention_outbox_days`,
processed-message records after `retention_processed_messages_days`; a service adds its own
(admin: its audit log). 0 days keeps a table's rows forever. A rule whose table the service does
not have is skipped.

- Once across replicas: on PostgreSQL a run holds a session advisory lock
  (`pg_try_advisory_lock`) and a replica that finds it taken skips its run. SQLite serves one
  process, so the run needs no lock.
- Never a long write lock: rows go in batches of `retention_batch_size`, picked by primary key
  under a `LIMIT`, each batch its own committed transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Table, delete, inspect, select, text, tuple_
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from bandstand.platform.advisory_locks import advisory_lock_key
from bandstand.platform.database import Database
from bandstand.platform.messaging.idempotency import processed_messages_table
from bandstand.platform.messaging.outbox import outbox_table
from bandstand.platform.periodic import PeriodicJob
from bandstand.platform.settings import Settings

logger = logging.getLogger("bandstand.retention")
FIRST_RUN_DELAY_SECONDS = 60.0


@dataclass(frozen=True)
class RetentionRule:
    """Rows of `table` whose `column` (a timestamp) is older than `days` days; 0 keeps all."""

    table: Table
    column: ColumnElement[datetime]
    days: int


@dataclass
class RetentionReport:
    """What one run did: rows deleted and batches committed per table; `skipped` when another
    replica held the lock."""

    skipped: bool = False
    deleted: dict[str, int] = field(default_factory=dict)
    batches: dict[str, int] = field(default_factory=dict)


def kernel_rules(settings: Settings) -> list[RetentionRule]:
    return [
        RetentionRule(outbox_table, outbox_table.c.published_at, settings.retention_outbox_days),
        RetentionRule(
            processed_messages_table,
            processed_messages_table.c.processed_at,
            settings.retention_processed_messages_days,
        ),
    ]


def lock_key(service: str) -> int:
    """The advisory lock key of the retention job of `service`."""
    return advisory_lock_key(f"bandstand.retention.{service}")


class RetentionJob(PeriodicJob):
    def __init__(
        self,
        service: str,
        database: Database,
        rules: Sequence[RetentionRule],
        *,
        interval_seconds: float = 3600.0,
        batch_size: int = 1000,
    ) -> None:
        # Not at start-up, which has enough to do; soon after, so restarts cannot starve it.
        super().__init__(f"retention-{service}", interval_seconds, FIRST_RUN_DELAY_SECONDS)
        self.service = service
        self.database = database
        self.rules = list(rules)
        self.batch_size = batch_size
        self.lock_key = lock_key(service)

    def wanted(self) -> bool:
        return any(rule.days > 0 for rule in self.rules)

    async def run_once(self, now: datetime | None = None) -> RetentionReport:
        """Prune every rule's old rows now (unless another replica is at it)."""
        now = now or datetime.now(UTC)
        report = RetentionReport()
        async with self._exclusive() as acquired:
            if not acquired:
                report.skipped = True
                return report
            existing = await self._existing_tables()
            for rule in self.rules:
                if rule.days <= 0 or rule.table.name not in existing:
                    continue
                await self._prune(rule, now - timedelta(days=rule.days), report)
        if any(report.deleted.values()):
            logger.info("retention: pruned %s in %s", report.deleted, self.service)
        return report

    # Internals.

    async def _prune(self, rule: RetentionRule, cutoff: datetime, report: RetentionReport) -> None:
        table = rule.table
        keys = list(table.primary_key.columns)
        chosen = select(*keys).where(rule.column < cutoff).limit(self.batch_size)
        target = keys[0] if len(keys) == 1 else tuple_(*keys)
        statement = delete(table).where(target.in_(chosen))
        while True:
            async with self.database.unit_of_work() as session:
                result = await session.execute(statement)
            count = max(int(getattr(result, "rowcount", 0) or 0), 0)
            if count == 0:
                return
            report.deleted[table.name] = report.deleted.get(table.name, 0) + count
            report.batches[table.name] = report.batches.get(table.name, 0) + 1
            if count < self.batch_size:
                return
            await asyncio.sleep(0)  # let requests have the database between batches

    async def _existing_tables(self) -> set[str]:
        names = {rule.table.name for rule in self.rules}

        def present(connection: Connection) -> set[str]:
            inspector = inspect(connection)
            return {name for name in names if inspector.has_table(name)}

        async with self.database.engine.connect() as connection:
            return await connection.run_sync(present)

    @contextlib.asynccontextmanager
    async def _exclusive(self) -> AsyncIterator[bool]:
        if self.database.engine.dialect.name != "postgresql":
            yield True
            return
        async with self.database.engine.connect() as raw:
            connection: AsyncConnection = await raw.execution_options(isolation_level="AUTOCOMMIT")
            acquired = bool(
                await connection.scalar(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": self.lock_key}
                )
            )
            try:
                yield acquired
            finally:
                if acquired:
                    await connection.execute(
                        text("SELECT pg_advisory_unlock(:key)"), {"key": self.lock_key}
                    )
