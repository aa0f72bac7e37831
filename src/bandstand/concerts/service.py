"""Concerts's use cases: the calendar, and each user's attendance.

Every method takes the request's session and never commits; events go to the outbox in the same
transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from fastapi import Request
from sqlalchemy import Select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.concerts import events
from bandstand.concerts.models import NO_ANSWER, Attendance, Concert
from bandstand.concerts.repository import AttendanceRepository, ConcertFilters, ConcertRepository
from bandstand.concerts.schemas import (
    ConcertCreate,
    ConcertRead,
    MyAttendance,
    Ordering,
    day_start,
    next_day_start,
)
from bandstand.platform.clock import utcnow
from bandstand.platform.errors import NotFound
from bandstand.platform.pagination import PageParams, paginate
from bandstand.platform.rows import field_dicts
from bandstand.platform.schemas import as_utc
from bandstand.platform.security import Principal


class ConcertNotFound(NotFound):
    def __init__(self, concert_id: int) -> None:
        super().__init__(f"Concert with id {concert_id} not found")


def _earliest(*bounds: datetime | None) -> datetime | None:
    known = [bound for bound in bounds if bound is not None]
    return min(known) if known else None


def _latest(*bounds: datetime | None) -> datetime | None:
    known = [bound for bound in bounds if bound is not None]
    return max(known) if known else None


def concert_filters(
    *,
    city: str | None = None,
    date_from: date | datetime | None = None,
    date_to: date | datetime | None = None,
    upcoming: bool | None = None,
    ordering: Ordering = "date",
    now: datetime | None = None,
) -> ConcertFilters:
    """The list's query parameters as bounds on the start time.

    A date means the whole day in UTC: `date_from=2027-05-01` starts at its midnight,
    `date_to=2027-05-01` takes in the concerts of that day. `upcoming=true` keeps the concerts
    not started yet, `upcoming=false` those already started.
    """
    moment = now or utcnow()
    lower = upper_exclusive = upper_inclusive = None
    if isinstance(date_from, datetime):
        lower = date_from
    elif date_from is not None:
        lower = day_start(date_from)
    if isinstance(date_to, datetime):
        upper_inclusive = date_to
    elif date_to is not None:
        upper_exclusive = next_day_start(date_to)
    if upcoming is True:
        lower = _latest(lower, moment)
    elif upcoming is False:
        upper_exclusive = _earliest(upper_exclusive, moment)
    cleaned = city.strip() if city is not None else None
    return ConcertFilters(
        city=cleaned or None,
        starts_at_or_after=lower,
        starts_before=upper_exclusive,
        starts_at_or_before=upper_inclusive,
        descending=ordering == "-date",
    )


class ConcertService:
    def __init__(self) -> None:
        self.concerts = ConcertRepository()
        self.attendance = AttendanceRepository()

    # The calendar

    def listing(self, filters: ConcertFilters, viewer_id: int | None = None) -> Select[Any]:
        return self.concerts.listing(filters, viewer_id)

    async def page(
        self,
        session: AsyncSession,
        filters: ConcertFilters,
        pagination: PageParams,
        request: Request,
        viewer: Principal | None,
    ) -> dict[str, Any]:
        """A page of the calendar and its count: two statements whatever the page size (the
        attending counts and the viewer's statuses are read with the page). Its results are
        plain dicts of `ConcertRead`'s fields."""
        statement = self.listing(filters, viewer.id if viewer is not None else None)
        page = await paginate(session, statement, pagination, request, scalars=False)
        page["results"] = field_dicts(page["results"])
        return page

    async def get(self, session: AsyncSession, concert_id: int) -> Concert:
        concert = await self.concerts.get(session, concert_id)
        if concert is None:
            raise ConcertNotFound(concert_id)
        return concert

    async def views(
        self, session: AsyncSession, concerts: Sequence[Concert], viewer: Principal | None
    ) -> list[ConcertRead]:
        """The concerts as read by `viewer`: two queries whatever their number."""
        ids = [concert.id for concert in concerts]
        counts = await self.attendance.attending_counts(session, ids)
        mine: dict[int, str] | None = None
        if viewer is not None:
            mine = await self.attendance.statuses_of(session, viewer.id, ids)
        return [
            ConcertRead.build(
                concert,
                counts[concert.id],
                None if mine is None else mine.get(concert.id, NO_ANSWER),
            )
            for concert in concerts
        ]

    async def view(
        self, session: AsyncSession, concert: Concert, viewer: Principal | None
    ) -> ConcertRead:
        (read,) = await self.views(session, [concert], viewer)
        return read

    async def create(
        self, session: AsyncSession, data: ConcertCreate, actor_id: int | None
    ) -> Concert:
        concert = await self.concerts.add(session, Concert(**data.model_dump()))
        return await events.CONCERTS.created(session, concert, actor_id)

    async def update(
        self,
        session: AsyncSession,
        concert: Concert,
        changes: dict[str, Any],
        actor_id: int | None,
    ) -> Concert:
        """Set the fields that differ and publish what changed; nothing changes, nothing is sent."""
        changed = [key for key, value in changes.items() if _differs(getattr(concert, key), value)]
        if not changed:
            return concert
        return await events.CONCERTS.apply(session, concert, changes, changed, actor_id)

    async def delete(self, session: AsyncSession, concert: Concert, actor_id: int | None) -> None:
        await self.concerts.delete(session, concert)
        await events.CONCERTS.deleted(session, concert, actor_id)

    # Attendance: always the caller's own, except the admin's list of attendees

    async def my_attendance(
        self, session: AsyncSession, concert_id: int, user_id: int
    ) -> MyAttendance:
        if not await self.concerts.exists(session, concert_id):
            raise ConcertNotFound(concert_id)
        row = await self.attendance.get(session, user_id, concert_id)
        return await self._my_attendance(session, concert_id, row)

    async def set_attendance(
        self, session: AsyncSession, concert_id: int, user_id: int, status: str
    ) -> MyAttendance:
        """Record the user's answer; "-" withdraws it (the row goes). Setting the status the user
        already has changes nothing and publishes nothing."""
        if not await self.concerts.exists(session, concert_id):
            raise ConcertNotFound(concert_id)
        row = await self.attendance.get(session, user_id, concert_id, lock=True)
        previous = row.status if row is not None else NO_ANSWER
        if status != previous:
            now = utcnow()
            if status == NO_ANSWER:
                await self.attendance.remove(session, user_id, concert_id)
            elif row is not None:
                await self.attendance.set_status(session, user_id, concert_id, status, now)
            else:
                previous = await self._insert(session, concert_id, user_id, status, now)
            if status != previous:
                await events.attendance_changed(session, concert_id, user_id, status, previous)
            row = await self.attendance.get(session, user_id, concert_id)
        return await self._my_attendance(session, concert_id, row)

    async def _insert(
        self, session: AsyncSession, concert_id: int, user_id: int, status: str, now: datetime
    ) -> str:
        """Insert the answer; the previous status, which a concurrent request may have set."""
        try:
            inserted = await self.attendance.insert_if_absent(
                session, user_id, concert_id, status, now
            )
        except IntegrityError as exc:
            # The concert was deleted since it was looked up.
            raise ConcertNotFound(concert_id) from exc
        if inserted:
            return NO_ANSWER
        row = await self.attendance.get(session, user_id, concert_id, lock=True)
        previous = row.status if row is not None else NO_ANSWER
        if previous != status:
            await self.attendance.set_status(session, user_id, concert_id, status, now)
        return previous

    async def _my_attendance(
        self, session: AsyncSession, concert_id: int, row: Attendance | None
    ) -> MyAttendance:
        counts = await self.attendance.attending_counts(session, [concert_id])
        if row is not None and row.status == NO_ANSWER:
            row = None
        return MyAttendance(
            concert_id=concert_id,
            status=row.status if row is not None else NO_ANSWER,
            updated_at=row.updated_at if row is not None else None,
            attending_count=counts[concert_id],
        )

    def my_concerts(
        self, user_id: int, *, status: str | None = None, upcoming: bool | None = None
    ) -> Select[Any]:
        """The user's answers with their concerts, the concert's start time first."""
        now = utcnow()
        return self.attendance.of_user(
            user_id,
            status=status,
            starts_at_or_after=now if upcoming is True else None,
            starts_before=now if upcoming is False else None,
        )

    async def my_concerts_page(
        self,
        session: AsyncSession,
        user_id: int,
        pagination: PageParams,
        request: Request,
        *,
        status: str | None = None,
        upcoming: bool | None = None,
    ) -> dict[str, Any]:
        """A page of `my_concerts` and its count (two statements), as plain dicts of
        `MyConcert`'s fields."""
        statement = self.my_concerts(user_id, status=status, upcoming=upcoming)
        page = await paginate(session, statement, pagination, request, scalars=False)
        page["results"] = [_my_concert(fields) for fields in field_dicts(page["results"])]
        return page

    async def attendees_page(
        self,
        session: AsyncSession,
        concert_id: int,
        pagination: PageParams,
        request: Request,
        *,
        status: str | None = None,
    ) -> dict[str, Any]:
        """A page of the concert's answers, as plain dicts of `Attendee`'s fields."""
        statement = await self.attendees(session, concert_id, status=status)
        page = await paginate(session, statement, pagination, request, scalars=False)
        page["results"] = field_dicts(page["results"])
        return page

    async def attendees(
        self, session: AsyncSession, concert_id: int, *, status: str | None = None
    ) -> Select[Any]:
        if not await self.concerts.exists(session, concert_id):
            raise ConcertNotFound(concert_id)
        return self.attendance.of_concert(concert_id, status=status)


def _my_concert(fields: dict[str, Any]) -> dict[str, Any]:
    """A row of `my_concerts` as `MyConcert`'s fields: the answer, and the concert as the user
    reads it."""
    status = fields.pop("answer")
    answered_at = fields.pop("answered_at")
    fields["my_status"] = status
    return {"status": status, "updated_at": answered_at, "concert": fields}


def _differs(current: object, new: object) -> bool:
    if isinstance(current, datetime) and isinstance(new, datetime):
        # SQLite returns stored times without their (UTC) zone.
        return as_utc(current) != as_utc(new)
    return current != new


concert_service = ConcertService()
