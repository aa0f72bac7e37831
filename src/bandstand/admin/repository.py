"""Every query of the admin service."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, bindparam, case, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.admin.audit import Aggregates
from bandstand.admin.models import (
    AuditCount,
    AuditEntry,
    Counter,
    DailyMetric,
    Setting,
    SongPopularity,
)
from bandstand.platform.pagination import kept_statements

CLIENT_DETAILS = frozenset({"ip_address", "user_agent"})
"""What an event says of the client it came from: erased once its user is deleted."""
"""From this offset on, a page is found by its ids first: skipping rows in an index is cheap,
skipping them in the table is not."""


def _insert(session: AsyncSession) -> Any:
    """The dialect's INSERT, which has ON CONFLICT (both engines this platform runs on)."""
    return sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert


AUDIT_COLUMNS: tuple[Any, ...] = tuple(
    getattr(AuditEntry, column.key) for column in AuditEntry.__table__.columns
)
SETTING_COLUMNS: tuple[Any, ...] = tuple(
    getattr(Setting, column.key) for column in Setting.__table__.columns
)


@dataclass(frozen=True)
class AuditFilters:
    service: str | None = None
    action: str | None = None
    actor_id: int | None = None
    occurred_from: datetime | None = None
    """At or after (the start of `date_from`)."""
    occurred_before: datetime | None = None
    """Before (the start of the day after `date_to`)."""
    day_from: date | None = None
    day_to: date | None = None


def filtered(statement: Select[Any], filters: AuditFilters) -> Select[Any]:
    """`statement` keeping the audit entries `filters` keep."""
    if filters.service is not None:
        statement = statement.where(AuditEntry.service == filters.service)
    if filters.action is not None:
        statement = statement.where(AuditEntry.action == filters.action)
    if filters.actor_id is not None:
        statement = statement.where(AuditEntry.actor_id == filters.actor_id)
    if filters.occurred_from is not None:
        statement = statement.where(AuditEntry.occurred_at >= filters.occurred_from)
    if filters.occurred_before is not None:
        statement = statement.where(AuditEntry.occurred_at < filters.occurred_before)
    return statement


@kept_statements
def _audit_listing(filters: AuditFilters) -> Select[Any]:
    newest_first = (AuditEntry.occurred_at.desc(), AuditEntry.id.desc())
    return filtered(select(*AUDIT_COLUMNS), filters).order_by(*newest_first)


class AuditRepository:
    async def insert_new(self, session: AsyncSession, rows: Sequence[dict[str, Any]]) -> set[str]:
        """Insert the entries whose event is not recorded yet; the event ids inserted."""
        if not rows:
            return set()
        table = AuditEntry.__table__
        statement = (
            _insert(session)(table)
            .on_conflict_do_nothing(index_elements=[table.c.event_id])
            .returning(table.c.event_id)
        )
        result = await session.execute(statement, list(rows))
        return {str(event_id) for event_id in result.scalars().all()}

    async def erase_client_details(self, session: AsyncSession, user_ids: Sequence[int]) -> int:
        """Forget the IP address and user agent of every entry the users acted in (their
        columns, and their keys in `details`); the number of entries changed."""
        if not user_ids:
            return 0
        rows = await session.execute(
            select(AuditEntry.id, AuditEntry.ip_address, AuditEntry.user_agent, AuditEntry.details)
            .where(AuditEntry.actor_id.in_(list(user_ids)))
            .order_by(AuditEntry.id)
        )
        changes = [
            {
                "entry_id": entry_id,
                "new_details": {
                    key: value for key, value in details.items() if key not in CLIENT_DETAILS
                },
            }
            for entry_id, ip_address, user_agent, details in rows
            if ip_address is not None
            or user_agent is not None
            or (isinstance(details, dict) and CLIENT_DETAILS.intersection(details))
        ]
        if changes:
            table = AuditEntry.metadata.tables[AuditEntry.__tablename__]
            await session.execute(
                update(table)
                .where(table.c.id == bindparam("entry_id"))
                .values(ip_address=None, user_agent=None, details=bindparam("new_details")),
                changes,
            )
        return len(changes)

    def listing(self, filters: AuditFilters) -> Select[Any]:
        """Newest first, as plain rows of every column; the kernel's pagination reads deep
        pages from the index alone."""
        return _audit_listing(filters)

    async def count(self, session: AsyncSession, filters: AuditFilters) -> int:
        """The number of entries the filters keep.

        Without a user filter it is a sum over the per-day counts (a few rows per day, whatever
        the size of the log); the user filter counts that user's entries in their index."""
        if filters.actor_id is not None:
            statement = filtered(select(func.count()).select_from(AuditEntry), filters)
            return int((await session.execute(statement)).scalar_one())
        summed = select(func.coalesce(func.sum(AuditCount.count), 0))
        if filters.service is not None:
            summed = summed.where(AuditCount.service == filters.service)
        if filters.action is not None:
            summed = summed.where(AuditCount.action == filters.action)
        if filters.day_from is not None:
            summed = summed.where(AuditCount.day >= filters.day_from)
        if filters.day_to is not None:
            summed = summed.where(AuditCount.day <= filters.day_to)
        return int((await session.execute(summed)).scalar_one())


class StatsRepository:
    async def apply(self, session: AsyncSession, totals: Aggregates) -> None:
        """Add a batch's aggregates; keys in a fixed order, so concurrent batches never
        deadlock on each other's rows."""
        build = _insert(session)
        if totals.audit_counts:
            table = AuditCount.__table__
            statement = build(table)
            statement = statement.on_conflict_do_update(
                index_elements=[table.c.day, table.c.service, table.c.action],
                set_={"count": table.c.count + statement.excluded.count},
            )
            rows = [
                {"day": day, "service": service, "action": action, "count": count}
                for (day, service, action), count in sorted(totals.audit_counts.items())
            ]
            await session.execute(statement, rows)
        if totals.daily_counts:
            table = DailyMetric.__table__
            statement = build(table)
            statement = statement.on_conflict_do_update(
                index_elements=[table.c.metric, table.c.day],
                set_={
                    "count": table.c.count + statement.excluded.count,
                    "amount": table.c.amount + statement.excluded.amount,
                },
            )
            rows = [
                {"metric": metric, "day": day, "count": count, "amount": totals.daily_amounts[key]}
                for key, count in sorted(totals.daily_counts.items())
                for metric, day in [key]
            ]
            await session.execute(statement, rows)
        if totals.counters:
            table = Counter.__table__
            statement = build(table)
            statement = statement.on_conflict_do_update(
                index_elements=[table.c.name],
                set_={"value": table.c.value + statement.excluded.value},
            )
            rows = [
                {"name": name, "value": value} for name, value in sorted(totals.counters.items())
            ]
            await session.execute(statement, rows)
        if totals.songs:
            await self._songs(session, totals)

    async def _songs(self, session: AsyncSession, totals: Aggregates) -> None:
        table = SongPopularity.__table__
        statement = _insert(session)(table)
        new = statement.excluded
        newer = (new.likes_at.is_not(None)) & (
            table.c.likes_at.is_(None) | (new.likes_at >= table.c.likes_at)
        )
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.song_id],
            set_={
                "title": func.coalesce(new.title, table.c.title),
                "artist": func.coalesce(new.artist, table.c.artist),
                "like_count": case((newer, new.like_count), else_=table.c.like_count),
                "likes_at": case((newer, new.likes_at), else_=table.c.likes_at),
                "deleted": table.c.deleted | new.deleted,
            },
        )
        rows = [
            {
                "song_id": song_id,
                "title": change.title,
                "artist": change.artist,
                "like_count": change.like_count or 0,
                "likes_at": change.likes_at,
                "deleted": change.deleted,
            }
            for song_id, change in sorted(totals.songs.items())
        ]
        await session.execute(statement, rows)

    async def daily(
        self, session: AsyncSession, metrics: Sequence[str], since: date
    ) -> list[DailyMetric]:
        statement = select(DailyMetric).where(
            DailyMetric.metric.in_(list(metrics)), DailyMetric.day >= since
        )
        return list((await session.execute(statement)).scalars())

    async def daily_like(
        self, session: AsyncSession, prefix: str, since: date
    ) -> list[DailyMetric]:
        statement = select(DailyMetric).where(
            DailyMetric.metric.startswith(prefix, autoescape=True), DailyMetric.day >= since
        )
        return list((await session.execute(statement)).scalars())

    async def counter(self, session: AsyncSession, name: str) -> int:
        statement = select(Counter.value).where(Counter.name == name)
        return int((await session.execute(statement)).scalar_one_or_none() or 0)

    async def top_songs(self, session: AsyncSession, limit: int) -> list[SongPopularity]:
        statement = (
            select(SongPopularity)
            .where(SongPopularity.deleted.is_(False), SongPopularity.like_count > 0)
            .order_by(SongPopularity.like_count.desc(), SongPopularity.song_id)
            .limit(limit)
        )
        return list((await session.execute(statement)).scalars())


@kept_statements
def _setting_listing(public_only: bool) -> Select[Any]:
    statement = select(*SETTING_COLUMNS).order_by(Setting.key)
    if public_only:
        statement = statement.where(Setting.is_public.is_(True))
    return statement


class SettingRepository:
    def listing(self, *, public_only: bool = False) -> Select[Any]:
        """The settings by key, as plain rows of every column."""
        return _setting_listing(public_only)

    async def get(self, session: AsyncSession, key: str) -> Setting | None:
        return await session.get(Setting, key)

    async def add(self, session: AsyncSession, setting: Setting) -> None:
        session.add(setting)
        await session.flush()

    async def delete(self, session: AsyncSession, key: str) -> None:
        await session.execute(delete(Setting).where(Setting.key == key))

    async def count(self, session: AsyncSession) -> int:
        statement = select(func.count()).select_from(Setting)
        return int((await session.execute(statement)).scalar_one())
