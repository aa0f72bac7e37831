"""Every query the academy runs."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Select, and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bandstand.academy.models import MAX_ID, Course, Enrollment, Lesson, LessonCompletion, Member


def valid_id(identifier: int) -> bool:
    """Whether `identifier` fits the INTEGER columns (a larger one cannot exist)."""
    return 1 <= identifier <= MAX_ID


def _insert(session: AsyncSession) -> Any:
    return sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


class CourseRepository:
    async def get(
        self, session: AsyncSession, course_id: int, *, lock: bool = False, share: bool = False
    ) -> Course | None:
        if not valid_id(course_id):
            return None
        statement = select(Course).where(Course.id == course_id)
        if lock or share:
            statement = statement.with_for_update(read=share and not lock)
        return (await session.execute(statement)).scalars().first()

    def listing(self, *, difficulty: str | None, search: str | None) -> Select[Course]:
        statement = select(Course).where(Course.is_active.is_(True))
        if difficulty is not None:
            statement = statement.where(Course.difficulty_level == difficulty)
        if search:
            pattern = _like_pattern(search)
            statement = statement.where(
                or_(
                    func.lower(Course.title).like(pattern, escape="\\"),
                    func.lower(Course.description).like(pattern, escape="\\"),
                )
            )
        return statement.order_by(Course.id)

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

    async def add(self, session: AsyncSession, course: Course) -> Course:
        session.add(course)
        await session.flush()
        return course

    async def delete(self, session: AsyncSession, course: Course) -> None:
        # The database removes its lessons, enrolments and completions (ON DELETE CASCADE).
        await session.delete(course)
        await session.flush()

    async def lesson_counts(
        self, session: AsyncSession, course_ids: Collection[int]
    ) -> dict[int, int]:
        """Published lessons per course, in one query."""
        if not course_ids:
            return {}
        statement = (
            select(Lesson.course_id, func.count())
            .where(Lesson.course_id.in_(course_ids), Lesson.is_published.is_(True))
            .group_by(Lesson.course_id)
        )
        counts = {int(course): int(n) for course, n in await session.execute(statement)}
        return {course: counts.get(course, 0) for course in course_ids}

    async def enrollment_counts(
        self, session: AsyncSession, course_ids: Collection[int]
    ) -> dict[int, int]:
        if not course_ids:
            return {}
        statement = (
            select(Enrollment.course_id, func.count())
            .where(Enrollment.course_id.in_(course_ids))
            .group_by(Enrollment.course_id)
        )
        counts = {int(course): int(n) for course, n in await session.execute(statement)}
        return {course: counts.get(course, 0) for course in course_ids}


class LessonRepository:
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

    async def add(self, session: AsyncSession, lesson: Lesson) -> Lesson:
        session.add(lesson)
        await session.flush()
        return lesson

    async def delete(self, session: AsyncSession, lesson: Lesson) -> None:
        await session.delete(lesson)
        await session.flush()


def _done_published(user_id: Any, course_id: Any) -> Select[Any]:
    """The number of published lessons of `course_id` that `user_id` completed."""
    return (
        select(func.count())
        .select_from(LessonCompletion)
        .join(Lesson, Lesson.id == LessonCompletion.lesson_id)
        .where(
            LessonCompletion.user_id == user_id,
            LessonCompletion.course_id == course_id,
            Lesson.is_published.is_(True),
        )
    )


class EnrollmentRepository:
    async def get(
        self, session: AsyncSession, user_id: int, course_id: int, *, lock: bool = False
    ) -> Enrollment | None:
        if not valid_id(course_id):
            return None
        statement = (
            select(Enrollment)
            .where(Enrollment.user_id == user_id, Enrollment.course_id == course_id)
            .execution_options(populate_existing=True)
        )
        if lock:
            statement = statement.with_for_update()
        return (await session.execute(statement)).scalars().first()

    async def insert_if_absent(
        self, session: AsyncSession, user_id: int, course_id: int, when: datetime
    ) -> int | None:
        """The new enrolment's id, or None when the user is enrolled already."""
        statement = (
            _insert(session)(Enrollment)
            .values(user_id=user_id, course_id=course_id, enrolled_at=when)
            .on_conflict_do_nothing(index_elements=["user_id", "course_id"])
            .returning(Enrollment.id)
        )
        row = (await session.execute(statement)).first()
        return None if row is None else int(row[0])

    async def remove(self, session: AsyncSession, user_id: int, course_id: int) -> None:
        """Delete the enrolment and the user's completions in the course."""
        await session.execute(
            delete(LessonCompletion)
            .where(LessonCompletion.user_id == user_id, LessonCompletion.course_id == course_id)
            .execution_options(synchronize_session=False)
        )
        await session.execute(
            delete(Enrollment)
            .where(Enrollment.user_id == user_id, Enrollment.course_id == course_id)
            .execution_options(synchronize_session=False)
        )

    async def remove_user(self, session: AsyncSession, user_id: int) -> tuple[int, int]:
        """Delete every enrolment and completion of `user_id`; how many of each."""
        completions = await session.execute(
            delete(LessonCompletion)
            .where(LessonCompletion.user_id == user_id)
            .execution_options(synchronize_session=False)
        )
        enrollments = await session.execute(
            delete(Enrollment)
            .where(Enrollment.user_id == user_id)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(enrollments), _rowcount(completions)

    async def set_completed(
        self, session: AsyncSession, enrollment_ids: Collection[int], when: datetime | None
    ) -> None:
        if not enrollment_ids:
            return
        await session.execute(
            update(Enrollment)
            .where(Enrollment.id.in_(enrollment_ids))
            .values(completed_at=when)
            .execution_options(synchronize_session=False)
        )

    def of_user(self, user_id: int, course_id: int | None = None) -> Select[Any]:
        """(enrolment, course) rows of the user, the latest enrolment first."""
        statement = (
            select(Enrollment, Course)
            .join(Course, Course.id == Enrollment.course_id)
            .where(Enrollment.user_id == user_id)
        )
        if course_id is not None:
            statement = statement.where(Enrollment.course_id == course_id)
        ordered = statement.order_by(Enrollment.enrolled_at.desc(), Enrollment.id.desc())
        return cast("Select[Any]", ordered)

    async def rows_of_user(
        self, session: AsyncSession, user_id: int, course_id: int | None = None
    ) -> Sequence[tuple[Enrollment, Course]]:
        if course_id is not None and not valid_id(course_id):
            return []
        result = await session.execute(self.of_user(user_id, course_id))
        return [(enrollment, course) for enrollment, course in result.all()]

    async def completed_counts(
        self, session: AsyncSession, user_id: int, course_ids: Collection[int]
    ) -> dict[int, int]:
        """Published lessons done by the user per course, in one query."""
        if not course_ids:
            return {}
        statement = (
            select(LessonCompletion.course_id, func.count())
            .join(Lesson, Lesson.id == LessonCompletion.lesson_id)
            .where(
                LessonCompletion.user_id == user_id,
                LessonCompletion.course_id.in_(course_ids),
                Lesson.is_published.is_(True),
            )
            .group_by(LessonCompletion.course_id)
        )
        counts = {int(course): int(n) for course, n in await session.execute(statement)}
        return {course: counts.get(course, 0) for course in course_ids}

    async def to_complete(
        self, session: AsyncSession, course_id: int, published: int
    ) -> Sequence[tuple[int, int]]:
        """(enrolment id, user id) of the open enrolments whose learner has done every one of
        the `published` lessons (none when there are none)."""
        if published == 0:
            return []
        done = _done_published(Enrollment.user_id, Enrollment.course_id).scalar_subquery()
        statement = select(Enrollment.id, Enrollment.user_id).where(
            Enrollment.course_id == course_id,
            Enrollment.completed_at.is_(None),
            done >= published,
        )
        return [(int(e), int(u)) for e, u in await session.execute(statement)]

    async def reopen(self, session: AsyncSession, course_id: int, published: int) -> int:
        """Clear the completion of the enrolments whose learner has not done all `published`
        lessons any more; how many."""
        conditions: list[ColumnElement[bool]] = [
            Enrollment.course_id == course_id,
            Enrollment.completed_at.is_not(None),
        ]
        if published > 0:  # with no published lesson, no enrolment is complete
            done = _done_published(Enrollment.user_id, Enrollment.course_id).scalar_subquery()
            conditions.append(done < published)
        statement = (
            update(Enrollment)
            .where(*conditions)
            .values(completed_at=None)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(await session.execute(statement))

    async def course_figures(self, session: AsyncSession, course_id: int) -> tuple[int, int]:
        """(enrolments, completed enrolments) of the course."""
        statement = select(func.count(), func.count(Enrollment.completed_at)).where(
            Enrollment.course_id == course_id
        )
        total, completed = (await session.execute(statement)).one()
        return int(total), int(completed)

    async def done_per_learner(self, session: AsyncSession, course_id: int) -> list[int]:
        """Published lessons done by each enrolled learner of the course."""
        done = _done_published(Enrollment.user_id, Enrollment.course_id).scalar_subquery()
        statement = select(done).where(Enrollment.course_id == course_id)
        return [int(n) for (n,) in await session.execute(statement)]

    async def per_day(
        self, session: AsyncSession, course_id: int, since: datetime
    ) -> dict[str, int]:
        """Enrolments per UTC day (`YYYY-MM-DD`) since `since`."""
        if session.get_bind().dialect.name == "sqlite":
            day: Any = func.date(Enrollment.enrolled_at)
        else:
            day = func.to_char(func.timezone("UTC", Enrollment.enrolled_at), "YYYY-MM-DD")
        statement = (
            select(day, func.count())
            .where(Enrollment.course_id == course_id, Enrollment.enrolled_at >= since)
            .group_by(day)
        )
        return {str(d): int(n) for d, n in await session.execute(statement)}


class CompletionRepository:
    async def insert_if_absent(
        self, session: AsyncSession, user_id: int, lesson: Lesson, when: datetime
    ) -> bool:
        statement = (
            _insert(session)(LessonCompletion)
            .values(
                user_id=user_id, lesson_id=lesson.id, course_id=lesson.course_id, completed_at=when
            )
            .on_conflict_do_nothing(index_elements=["user_id", "lesson_id"])
            .returning(LessonCompletion.lesson_id)
        )
        return (await session.execute(statement)).first() is not None

    async def completed_at(
        self, session: AsyncSession, user_id: int, lesson_id: int
    ) -> datetime | None:
        statement = select(LessonCompletion.completed_at).where(
            LessonCompletion.user_id == user_id, LessonCompletion.lesson_id == lesson_id
        )
        return (await session.execute(statement)).scalar_one_or_none()

    async def per_lesson(
        self, session: AsyncSession, course_id: int, lesson_ids: Collection[int]
    ) -> dict[int, int]:
        """Completions per lesson by learners enrolled now, in one query."""
        if not lesson_ids:
            return {}
        statement = (
            select(LessonCompletion.lesson_id, func.count())
            .join(
                Enrollment,
                and_(
                    Enrollment.user_id == LessonCompletion.user_id,
                    Enrollment.course_id == LessonCompletion.course_id,
                ),
            )
            .where(
                LessonCompletion.course_id == course_id,
                LessonCompletion.lesson_id.in_(lesson_ids),
            )
            .group_by(LessonCompletion.lesson_id)
        )
        counts = {int(lesson): int(n) for lesson, n in await session.execute(statement)}
        return {lesson: counts.get(lesson, 0) for lesson in lesson_ids}

    async def recent_of_user(
        self, session: AsyncSession, user_id: int, limit: int
    ) -> Sequence[tuple[LessonCompletion, str]]:
        """The user's latest completions with their course's title."""
        statement = (
            select(LessonCompletion, Course.title)
            .join(Course, Course.id == LessonCompletion.course_id)
            .where(LessonCompletion.user_id == user_id)
            .order_by(LessonCompletion.completed_at.desc(), LessonCompletion.lesson_id.desc())
            .limit(limit)
        )
        return [(completion, str(title)) for completion, title in await session.execute(statement)]


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
                _insert(session)(Member)
                .values(user_id=user_id, username=username, updated_at=when)
                .on_conflict_do_nothing(index_elements=["user_id"])
            )
            return True
        stored_at = current.updated_at
        if stored_at.tzinfo is None:  # SQLite hands stored times back without their zone
            stored_at = stored_at.replace(tzinfo=UTC)
        if stored_at > when:
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
