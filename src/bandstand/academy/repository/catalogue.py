"""The catalogue's queries: courses, lessons, and the names of the users academy knows."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.academy.models import Course, Enrollment, Lesson, Member
from bandstand.academy.repository.common import upsert_for, valid_id
from bandstand.platform.pagination import kept_statements
from bandstand.platform.rows import RowWrites, counts_by_key
from bandstand.platform.schemas import as_utc
from bandstand.platform.text_search import contains_phrase, normalize

LISTED: tuple[Any, ...] = (
    Course.id,
    Course.title,
    Course.description,
    # The instructor's name as academy knows it (null when it does not): `instructor_name`.
    select(Member.username)
    .where(Member.user_id == Course.instructor_id)
    .correlate(Course)
    .scalar_subquery()
    .label("instructor"),
    Course.instructor_id,
    Course.difficulty_level,
    Course.duration_hours,
    Course.price,
    Course.is_active,
    select(func.count())
    .where(Lesson.course_id == Course.id, Lesson.is_published.is_(True))
    .correlate(Course)
    .scalar_subquery()
    .label("lesson_count"),
    select(func.count())
    .where(Enrollment.course_id == Course.id)
    .correlate(Course)
    .scalar_subquery()
    .label("enrollment_count"),
    Course.created_at,
    Course.updated_at,
)
"""A listed course's columns, its counts and its instructor's name read with it: the fields of
`CourseRead`, as plain rows."""


@kept_statements
def _course_listing(difficulty: str | None, search: str | None) -> Select[Any]:
    statement = select(*LISTED).where(Course.is_active.is_(True))
    if difficulty is not None:
        statement = statement.where(Course.difficulty_level == difficulty)
    if search and normalize(search):
        statement = statement.where(contains_phrase(Course.search_text, search))
    return statement.order_by(Course.id)


class CourseRepository(RowWrites[Course]):
    """Deleting a course removes its lessons, enrolments and completions (ON DELETE CASCADE)."""

    async def get(
        self, session: AsyncSession, course_id: int, *, lock: bool = False, share: bool = False
    ) -> Course | None:
        if not valid_id(course_id):
            return None
        statement = select(Course).where(Course.id == course_id)
        if lock or share:
            statement = statement.with_for_update(read=share and not lock)
        return (await session.execute(statement)).scalars().first()

    def listing(self, *, difficulty: str | None, search: str | None) -> Select[Any]:
        """The active courses the filters keep, by id, as plain rows of `LISTED`."""
        return _course_listing(difficulty, search)

    async def popular(self, session: AsyncSession, limit: int) -> Sequence[Course]:
        """The active courses with the most enrolments (ties: the oldest first)."""
        enrolled = (
            select(Enrollment.course_id, func.count().label("enrolled"))
            .group_by(Enrollment.course_id)
            .subquery()
        )
        count = func.coalesce(enrolled.c.enrolled, 0)
        statement = (
            select(Course)
            .outerjoin(enrolled, enrolled.c.course_id == Course.id)
            .where(Course.is_active.is_(True))
            .order_by(count.desc(), Course.id)
            .limit(limit)
        )
        return (await session.execute(statement)).scalars().all()

    async def by_title(self, session: AsyncSession, title: str) -> Course | None:
        statement = select(Course).where(Course.title == title).limit(1)
        return (await session.execute(statement)).scalars().first()

    async def lesson_counts(
        self, session: AsyncSession, course_ids: Collection[int]
    ) -> dict[int, int]:
        """Published lessons per course, in one query."""
        statement = (
            select(Lesson.course_id, func.count())
            .where(Lesson.course_id.in_(course_ids), Lesson.is_published.is_(True))
            .group_by(Lesson.course_id)
        )
        return await counts_by_key(session, statement, course_ids)

    async def enrollment_counts(
        self, session: AsyncSession, course_ids: Collection[int]
    ) -> dict[int, int]:
        statement = (
            select(Enrollment.course_id, func.count())
            .where(Enrollment.course_id.in_(course_ids))
            .group_by(Enrollment.course_id)
        )
        return await counts_by_key(session, statement, course_ids)


class LessonRepository(RowWrites[Lesson]):
    async def get(self, session: AsyncSession, course_id: int, lesson_id: int) -> Lesson | None:
        if not valid_id(lesson_id):
            return None
        statement = select(Lesson).where(Lesson.id == lesson_id, Lesson.course_id == course_id)
        return (await session.execute(statement)).scalars().first()

    def of_course(self, course_id: int, *, published_only: bool) -> Select[Lesson]:
        statement = select(Lesson).where(Lesson.course_id == course_id)
        if published_only:
            statement = statement.where(Lesson.is_published.is_(True))
        return statement.order_by(Lesson.order, Lesson.id)

    async def published(self, session: AsyncSession, course_id: int) -> Sequence[Lesson]:
        result = await session.execute(self.of_course(course_id, published_only=True))
        return result.scalars().all()

    async def order_taken(
        self, session: AsyncSession, course_id: int, order: int, *, besides: int | None = None
    ) -> bool:
        statement = select(Lesson.id).where(Lesson.course_id == course_id, Lesson.order == order)
        if besides is not None:
            statement = statement.where(Lesson.id != besides)
        return (await session.execute(statement.limit(1))).first() is not None


class MemberRepository:
    async def names(self, session: AsyncSession, user_ids: Collection[int]) -> dict[int, str]:
        if not user_ids:
            return {}
        statement = select(Member.user_id, Member.username).where(Member.user_id.in_(user_ids))
        return {int(user): str(name) for user, name in await session.execute(statement)}

    async def remember(
        self, session: AsyncSession, user_id: int, username: str, when: datetime
    ) -> bool:
        """Store the user's name as of `when`, unless a later one is stored; True when the stored
        name changed."""
        statement = select(Member).where(Member.user_id == user_id).with_for_update()
        current = (await session.execute(statement)).scalars().first()
        if current is None:
            await session.execute(
                upsert_for(session)(Member)
                .values(user_id=user_id, username=username, updated_at=when)
                .on_conflict_do_nothing(index_elements=["user_id"])
            )
            return True
        if as_utc(current.updated_at) > when:
            return False  # an older event delivered late
        changed = current.username != username
        current.username = username
        current.updated_at = when
        await session.flush()
        return changed

    async def forget(self, session: AsyncSession, user_id: int) -> None:
        await session.execute(
            delete(Member)
            .where(Member.user_id == user_id)
            .execution_options(synchronize_session=False)
        )
