"""The learners' queries: enrolments and lesson completions, and the progress they add up to."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, and_, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bandstand.academy.models import Course, Enrollment, Lesson, LessonCompletion
from bandstand.academy.repository.common import rowcount, upsert_for, valid_id
from bandstand.platform.rows import counts_by_key


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
            upsert_for(session)(Enrollment)
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
        return rowcount(enrollments), rowcount(completions)

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
        return await counts_by_key(session, statement, course_ids)

    async def completed_lessons(
        self, session: AsyncSession, user_id: int, course_ids: Collection[int]
    ) -> dict[int, list[int]]:
        """The ids of the published lessons done by the user, ascending, per course (every
        course of `course_ids` present), in one query."""
        done: dict[int, list[int]] = {course_id: [] for course_id in course_ids}
        if not done:
            return done
        # An index lookup either way: the completions' primary key starts with user_id, and
        # ix_lesson_completions_course_id_user_id covers (course_id, user_id); lessons by id.
        statement = (
            select(LessonCompletion.course_id, LessonCompletion.lesson_id)
            .join(Lesson, Lesson.id == LessonCompletion.lesson_id)
            .where(
                LessonCompletion.user_id == user_id,
                LessonCompletion.course_id.in_(list(done)),
                Lesson.is_published.is_(True),
            )
            .order_by(LessonCompletion.course_id, LessonCompletion.lesson_id)
        )
        for course_id, lesson_id in await session.execute(statement):
            done[int(course_id)].append(int(lesson_id))
        return done

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
        return rowcount(await session.execute(statement))

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
            upsert_for(session)(LessonCompletion)
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
        return await counts_by_key(session, statement, lesson_ids)

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
