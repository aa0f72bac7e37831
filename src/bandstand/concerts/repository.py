"""Every query the concerts service runs."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Label, Select, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bandstand.concerts.models import (
    ATTENDING,
    MAX_ID,
    NO_ANSWER,
    STORED_STATUSES,
    Attendance,
    Concert,
    city_key,
)
from bandstand.platform.pagination import kept_statements
from bandstand.platform.rows import RowWrites, counts_by_key

# What a list shows of a concert: every column but the city's folded key.
CONCERT_COLUMNS: tuple[Any, ...] = (
    Concert.id,
    Concert.concert_name,
    Concert.duration,
    Concert.city,
    Concert.date,
    Concert.venue,
    Concert.description,
    Concert.picture_id,
    Concert.created_at,
    Concert.updated_at,
)


_ANSWERS = aliased(Attendance)
"""The attendance as the lists' subqueries read it: their own, also where the outer statement
reads attendance (built once: an alias is costly to build, each time)."""


def attending_count() -> Label[int]:
    """`attending_count` of a list of concerts: a count within the attendance index's
    (concert_id, status) range of each row of the page, in the page's own statement."""
    count = select(func.count()).where(
        _ANSWERS.concert_id == Concert.id, _ANSWERS.status == ATTENDING
    )
    return count.scalar_subquery().label("attending_count")


def status_of(user_id: int) -> Label[str]:
    """`my_status` of a list of concerts for `user_id`: a lookup of the attendance's primary
    key (user_id, concert_id) per row, "-" where there is none."""
    status = select(_ANSWERS.status).where(
        _ANSWERS.user_id == user_id, _ANSWERS.concert_id == Concert.id
    )
    return func.coalesce(status.scalar_subquery(), NO_ANSWER).label("my_status")


# Built once: the lists' statements start from these. Their extra columns are not conditions,
# so a list's count leaves them out.
_CONCERTS: Select[Any] = select(*CONCERT_COLUMNS, attending_count())
ATTENDEE_COLUMNS: tuple[Any, ...] = (Attendance.user_id, Attendance.status, Attendance.updated_at)
_ATTENDEES: Select[Any] = select(*ATTENDEE_COLUMNS)


def _valid_id(identifier: int) -> bool:
    """Whether `identifier` fits the INTEGER columns (a larger one cannot exist)."""
    return 1 <= identifier <= MAX_ID


@dataclass(frozen=True)
class ConcertFilters:
    """Resolved filters of the concert list: bounds are aware UTC datetimes."""

    city: str | None = None
    starts_at_or_after: datetime | None = None
    starts_before: datetime | None = None
    starts_at_or_before: datetime | None = None
    descending: bool = False


@kept_statements
def _concert_listing(filters: ConcertFilters, viewer_id: int | None) -> Select[Any]:
    statement = _CONCERTS if viewer_id is None else _CONCERTS.add_columns(status_of(viewer_id))
    if filters.city is not None:
        statement = statement.where(Concert.city_key == city_key(filters.city))
    if filters.starts_at_or_after is not None:
        statement = statement.where(Concert.date >= filters.starts_at_or_after)
    if filters.starts_before is not None:
        statement = statement.where(Concert.date < filters.starts_before)
    if filters.starts_at_or_before is not None:
        statement = statement.where(Concert.date <= filters.starts_at_or_before)
    if filters.descending:
        return statement.order_by(Concert.date.desc(), Concert.id.desc())
    return statement.order_by(Concert.date, Concert.id)


class ConcertRepository(RowWrites[Concert]):
    """Deleting a concert removes its attendance (ON DELETE CASCADE)."""

    async def get(self, session: AsyncSession, concert_id: int) -> Concert | None:
        if not _valid_id(concert_id):
            return None
        return await session.get(Concert, concert_id)

    async def exists(self, session: AsyncSession, concert_id: int) -> bool:
        if not _valid_id(concert_id):
            return False
        statement = select(Concert.id).where(Concert.id == concert_id)
        return (await session.execute(statement)).first() is not None

    def listing(self, filters: ConcertFilters, viewer_id: int | None = None) -> Select[Any]:
        """The concerts `filters` keep, as rows of `ConcertRead`'s fields: `my_status` only with
        `viewer_id`."""
        return _concert_listing(filters, viewer_id)

    async def by_name_and_date(
        self, session: AsyncSession, concert_name: str, date: datetime
    ) -> Concert | None:
        statement = select(Concert).where(
            Concert.concert_name == concert_name, Concert.date == date
        )
        return (await session.execute(statement.limit(1))).scalars().first()


class AttendanceRepository:
    async def get(
        self, session: AsyncSession, user_id: int, concert_id: int, *, lock: bool = False
    ) -> Attendance | None:
        # Core updates bypass the identity map: always read what is stored.
        statement = (
            select(Attendance)
            .where(Attendance.user_id == user_id, Attendance.concert_id == concert_id)
            .execution_options(populate_existing=True)
        )
        if lock:
            statement = statement.with_for_update()
        return (await session.execute(statement)).scalars().first()

    async def insert_if_absent(
        self, session: AsyncSession, user_id: int, concert_id: int, status: str, when: datetime
    ) -> bool:
        """Insert the row unless one exists (a concurrent request's); True when inserted."""
        build = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert
        statement = (
            build(Attendance)
            .values(user_id=user_id, concert_id=concert_id, status=status, updated_at=when)
            .on_conflict_do_nothing(index_elements=["user_id", "concert_id"])
            .returning(Attendance.user_id)
        )
        return (await session.execute(statement)).first() is not None

    async def set_status(
        self, session: AsyncSession, user_id: int, concert_id: int, status: str, when: datetime
    ) -> None:
        await session.execute(
            update(Attendance)
            .where(Attendance.user_id == user_id, Attendance.concert_id == concert_id)
            .values(status=status, updated_at=when)
            .execution_options(synchronize_session=False)
        )

    async def remove(self, session: AsyncSession, user_id: int, concert_id: int) -> None:
        await session.execute(
            delete(Attendance)
            .where(Attendance.user_id == user_id, Attendance.concert_id == concert_id)
            .execution_options(synchronize_session=False)
        )

    async def remove_user(self, session: AsyncSession, user_id: int) -> int:
        """Delete every row of `user_id`; the number deleted."""
        result = await session.execute(
            delete(Attendance)
            .where(Attendance.user_id == user_id)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def attending_counts(
        self, session: AsyncSession, concert_ids: Collection[int]
    ) -> dict[int, int]:
        """ "Attending" answers per concert, for all of `concert_ids` in one query."""
        statement = (
            select(Attendance.concert_id, func.count())
            .where(Attendance.concert_id.in_(concert_ids), Attendance.status == ATTENDING)
            .group_by(Attendance.concert_id)
        )
        return await counts_by_key(session, statement, concert_ids)

    async def statuses_of(
        self, session: AsyncSession, user_id: int, concert_ids: Collection[int]
    ) -> dict[int, str]:
        """The user's stored statuses among `concert_ids`, in one query."""
        if not concert_ids:
            return {}
        statement = select(Attendance.concert_id, Attendance.status).where(
            Attendance.user_id == user_id, Attendance.concert_id.in_(concert_ids)
        )
        return {
            int(concert_id): str(status) for concert_id, status in await session.execute(statement)
        }

    def of_user(
        self,
        user_id: int,
        *,
        status: str | None = None,
        starts_at_or_after: datetime | None = None,
        starts_before: datetime | None = None,
    ) -> Select[Any]:
        """The user's answers with their concerts, the concert's start time first: rows of the
        answer's `status` and `updated_at` (as `answer` and `answered_at`) beside `ConcertRead`'s
        fields."""
        statement = (
            select(
                Attendance.status.label("answer"),
                Attendance.updated_at.label("answered_at"),
                *CONCERT_COLUMNS,
                attending_count(),
            )
            .join(Concert, Concert.id == Attendance.concert_id)
            .where(Attendance.user_id == user_id)
            .where(Attendance.status.in_([status] if status else STORED_STATUSES))
        )
        if starts_at_or_after is not None:
            statement = statement.where(Concert.date >= starts_at_or_after)
        if starts_before is not None:
            statement = statement.where(Concert.date < starts_before)
        return statement.order_by(Concert.date, Concert.id)

    def of_concert(self, concert_id: int, *, status: str | None = None) -> Select[Any]:
        """Rows of `Attendee`'s fields, by user id."""
        statement = _ATTENDEES.where(
            Attendance.concert_id == concert_id,
            Attendance.status.in_([status] if status else STORED_STATUSES),
        )
        return statement.order_by(Attendance.user_id)
