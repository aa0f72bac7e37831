"""Admin's use cases: reading the audit log, the settings, the dashboard's figures.

Every method takes the request's session and never commits; setting changes go to the outbox in
the same transaction, and come back through the audit consumer like every other event.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.admin import audit, events
from bandstand.admin.models import DailyMetric, Setting
from bandstand.admin.repository import (
    AuditFilters,
    AuditRepository,
    SettingRepository,
    StatsRepository,
)
from bandstand.admin.schemas import (
    ActivityFigures,
    Dashboard,
    DayCount,
    DayOrders,
    SettingCreate,
    SettingUpdate,
    SystemFigures,
    TopSong,
    UserFigures,
)
from bandstand.platform.clock import utcnow
from bandstand.platform.errors import BadRequest, Conflict, NotFound
from bandstand.platform.rows import apply_changes, changed_fields
from bandstand.platform.schemas import as_utc

DASHBOARD_DAYS = 30
WEEK_DAYS = 7
TOP_SONGS = 10


class SettingNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Setting not found")


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def audit_filters(
    *,
    service: str | None = None,
    action: str | None = None,
    user: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> AuditFilters:
    """The list's query parameters: dates are whole UTC days, both bounds included."""
    if date_from is not None and date_to is not None and date_from > date_to:
        raise BadRequest("date_from: must not be after date_to")
    before = None
    if date_to is not None and date_to < date.max:
        before = _day_start(date_to + timedelta(days=1))
    return AuditFilters(
        service=service,
        action=action,
        actor_id=user,
        occurred_from=_day_start(date_from) if date_from is not None else None,
        occurred_before=before,
        day_from=date_from,
        day_to=date_to,
    )


class AuditService:
    def __init__(self) -> None:
        self.entries = AuditRepository()

    async def count(self, session: AsyncSession, filters: AuditFilters) -> int:
        return await self.entries.count(session, filters)

    def listing(self, filters: AuditFilters) -> Select[Any]:
        return self.entries.listing(filters)


class SettingService:
    def __init__(self) -> None:
        self.settings = SettingRepository()

    def listing(self, *, public_only: bool = False) -> Select[Any]:
        return self.settings.listing(public_only=public_only)

    async def get(self, session: AsyncSession, key: str) -> Setting:
        setting = await self.settings.get(session, key)
        if setting is None:
            raise SettingNotFound()
        return setting

    async def create(
        self, session: AsyncSession, data: SettingCreate, actor_id: int | None
    ) -> Setting:
        if await self.settings.get(session, data.key) is not None:
            raise Conflict("Setting already exists")
        now = utcnow()
        setting = Setting(**data.model_dump(), created_at=now, updated_at=now, updated_by=actor_id)
        await self.settings.add(session, setting)
        await events.setting_changed(
            session, events.SETTING_CREATED, setting.key, actor_id, is_public=setting.is_public
        )
        return setting

    async def update(
        self, session: AsyncSession, key: str, data: SettingUpdate, actor_id: int | None
    ) -> Setting:
        changes = data.changes()
        if not changes:
            raise BadRequest("body: give at least one of value, description, is_public")
        setting = await self.get(session, key)
        changed = changed_fields(setting, changes)
        if not changed:
            return setting
        apply_changes(setting, changes, changed)
        setting.updated_by = actor_id
        await session.flush()
        await events.setting_changed(
            session,
            events.SETTING_UPDATED,
            key,
            actor_id,
            changed=changed,
            is_public=setting.is_public,
        )
        return setting

    async def delete(self, session: AsyncSession, key: str, actor_id: int | None) -> None:
        await self.get(session, key)
        await self.settings.delete(session, key)
        await events.setting_changed(session, events.SETTING_DELETED, key, actor_id)


def _series(rows: list[DailyMetric], metric: str, days: list[date]) -> list[DayCount]:
    counts = {row.day: row.count for row in rows if row.metric == metric}
    return [DayCount(date=day, count=int(counts.get(day, 0))) for day in days]


def _orders(rows: list[DailyMetric], days: list[date]) -> list[DayOrders]:
    counts: dict[date, int] = defaultdict(int)
    revenue: dict[date, dict[str, Decimal]] = defaultdict(dict)
    for row in rows:
        currency = row.metric.partition(":")[2]
        counts[row.day] += int(row.count)
        revenue[row.day][currency] = Decimal(row.amount).quantize(Decimal("0.01"))
    return [
        DayOrders(
            date=day,
            count=counts.get(day, 0),
            revenue={
                currency: f"{amount:.2f}" for currency, amount in sorted(revenue[day].items())
            },
        )
        for day in days
    ]


class DashboardService:
    def __init__(self) -> None:
        self.stats = StatsRepository()
        self.settings = SettingRepository()

    async def figures(self, session: AsyncSession, now: datetime | None = None) -> Dashboard:
        """Contract D's figures and the daily series of the last 30 UTC days (today included,
        oldest first); "this week" is the last 7 of them, "this month" all 30."""
        moment = as_utc(now or utcnow())
        today = moment.date()
        days = [today - timedelta(days=back) for back in range(DASHBOARD_DAYS - 1, -1, -1)]
        week = days[-WEEK_DAYS:]
        metrics = [audit.REGISTRATIONS, audit.LOGINS, audit.ENROLMENTS, audit.EVENTS]
        daily = await self.stats.daily(session, metrics, days[0])
        orders = await self.stats.daily_like(session, f"{audit.ORDERS_COMPLETED}:", days[0])
        orders = [row for row in orders if row.day <= today]
        registrations = _series(daily, audit.REGISTRATIONS, days)
        logins = _series(daily, audit.LOGINS, days)
        enrolments = _series(daily, audit.ENROLMENTS, days)
        logged = _series(daily, audit.EVENTS, week)
        order_days = _orders(orders, days)
        songs = await self.stats.top_songs(session, TOP_SONGS)
        return Dashboard(
            users=UserFigures(
                total=await self.stats.counter(session, audit.USERS),
                new_this_week=sum(day.count for day in registrations[-WEEK_DAYS:]),
                new_this_month=sum(day.count for day in registrations),
            ),
            activity=ActivityFigures(
                logs_this_week=sum(day.count for day in logged),
                logins_this_week=sum(day.count for day in logins[-WEEK_DAYS:]),
                orders_completed_this_week=sum(day.count for day in order_days[-WEEK_DAYS:]),
                enrolments_this_week=sum(day.count for day in enrolments[-WEEK_DAYS:]),
            ),
            system=SystemFigures(total_settings=await self.settings.count(session)),
            timestamp=moment,
            registrations_per_day=registrations,
            logins_per_day=logins,
            orders_per_day=order_days,
            enrolments_per_day=enrolments,
            top_songs=[
                TopSong(
                    song_id=song.song_id,
                    title=song.title,
                    artist=song.artist,
                    like_count=song.like_count,
                )
                for song in songs
            ],
        )


audit_service = AuditService()
setting_service = SettingService()
dashboard_service = DashboardService()
