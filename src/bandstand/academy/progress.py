"""Enrolments and each learner's progress: completing lessons, and keeping every enrolment's
completion true to its course's published lessons.

Progress is the share of a course's published lessons the learner has done; an enrolment is
completed exactly while that share is 100 % (and the course has a published lesson). Publishing a
lesson therefore lowers every learner's share and reopens the enrolments it leaves unfinished;
unpublishing or deleting one raises it and completes those it finishes. A lesson's completions
are kept while it is unpublished and count again if it is published again.

Every method takes the request's session and never commits; events go to the outbox in the same
transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.academy import events
from bandstand.academy.access import can_see
from bandstand.academy.models import Course, Enrollment
from bandstand.academy.popular import PopularCourses
from bandstand.academy.repository import (
    CompletionRepository,
    CourseRepository,
    EnrollmentRepository,
    LessonRepository,
    MemberRepository,
)
from bandstand.academy.schemas import (
    CompletionResponse,
    CourseSummary,
    EnrollmentRead,
    ProgressItem,
)
from bandstand.platform.clock import utcnow
from bandstand.platform.errors import BadRequest, Forbidden, NotFound
from bandstand.platform.security import Principal

ACADEMY_NAME = "Bandstand Academy"
"""Shown as the instructor of the academy's own courses (no instructor id)."""


class CourseNotFound(NotFound):
    default_detail = "Course not found"


class LessonNotFound(NotFound):
    default_detail = "Lesson not found"


class NotEnrolled(NotFound):
    default_detail = "Not enrolled in this course"


def percentage(done: int, total: int) -> float:
    """`done` of `total` as a percentage with two decimals; 0 when there is nothing to do."""
    if total <= 0:
        return 0.0
    return round(100 * min(done, total) / total, 2)


def instructor_name(instructor_id: int | None, name: str | None) -> str:
    """How a course names its instructor: `name` as academy knows it, the academy's own name
    for its own courses."""
    if instructor_id is None:
        return ACADEMY_NAME
    return name if name is not None else f"Instructor #{instructor_id}"


class ProgressService:
    def __init__(self) -> None:
        self.courses = CourseRepository()
        self.lessons = LessonRepository()
        self.enrollments = EnrollmentRepository()
        self.completions = CompletionRepository()
        self.members = MemberRepository()

    async def enroll(
        self, session: AsyncSession, course_id: int, user: Principal, popular: PopularCourses
    ) -> EnrollmentRead:
        course = await self.courses.get(session, course_id)
        if course is None or not course.is_active:
            raise CourseNotFound()
        try:
            enrollment_id = await self.enrollments.insert_if_absent(
                session, user.id, course.id, utcnow()
            )
        except IntegrityError as exc:  # the course was deleted since it was read
            raise CourseNotFound() from exc
        if enrollment_id is None:
            raise BadRequest("Already enrolled in this course")
        await events.enrollment_created(session, enrollment_id, course.id, user.id)
        popular.invalidate(session)
        (item,) = await self.progress(session, user.id, course.id)
        enrollment = await self.enrollments.get(session, user.id, course.id)
        assert enrollment is not None
        return EnrollmentRead(
            id=enrollment.id,
            course=item.course,
            user=user.id,
            enrolled_at=enrollment.enrolled_at,
            completed_at=enrollment.completed_at,
            is_completed=item.is_completed,
            progress_percentage=item.progress_percentage,
        )

    async def unenroll(
        self, session: AsyncSession, course_id: int, user: Principal, popular: PopularCourses
    ) -> None:
        """Withdraw the enrolment; the learner's completions in the course go with it."""
        if await self.enrollments.get(session, user.id, course_id, lock=True) is None:
            raise NotEnrolled()
        await self.enrollments.remove(session, user.id, course_id)
        await events.enrollment_deleted(session, course_id, user.id)
        popular.invalidate(session)

    async def complete_lesson(
        self, session: AsyncSession, course_id: int, lesson_id: int, user: Principal
    ) -> CompletionResponse:
        """Mark a published lesson done for the caller (again: changes nothing)."""
        # A shared lock: completions go together, a publication waits for them (and they for it).
        course = await self.courses.get(session, course_id, share=True)
        if course is None or not can_see(course, user):
            raise CourseNotFound()
        enrollment = await self.enrollments.get(session, user.id, course.id, lock=True)
        if enrollment is None:
            raise Forbidden("Enrol in this course to complete its lessons")
        lesson = await self.lessons.get(session, course.id, lesson_id)
        if lesson is None or not lesson.is_published:
            raise LessonNotFound()
        if await self.completions.insert_if_absent(session, user.id, lesson, utcnow()):
            await events.lesson_completed(session, course.id, lesson.id, user.id)
        await self._settle(session, enrollment)
        completed_at = await self.completions.completed_at(session, user.id, lesson.id)
        assert completed_at is not None
        (item,) = await self.progress(session, user.id, course.id)
        return CompletionResponse(lesson_id=lesson.id, completed_at=completed_at, progress=item)

    async def _settle(self, session: AsyncSession, enrollment: Enrollment) -> None:
        """Complete (or reopen) one enrolment as its learner's progress says."""
        published = (await self.courses.lesson_counts(session, [enrollment.course_id]))[
            enrollment.course_id
        ]
        done = (
            await self.enrollments.completed_counts(
                session, enrollment.user_id, [enrollment.course_id]
            )
        )[enrollment.course_id]
        finished = published > 0 and done >= published
        if finished and enrollment.completed_at is None:
            enrollment.completed_at = utcnow()
            await session.flush()
            await events.enrollment_completed_of(session, enrollment)
        elif not finished and enrollment.completed_at is not None:
            enrollment.completed_at = None
            await session.flush()

    async def reconcile(self, session: AsyncSession, course_id: int) -> None:
        """After a lesson of the course was published, unpublished or deleted: reopen the
        enrolments no longer finished and complete those now finished. The caller holds the
        course's row lock since before the change."""
        published = (await self.courses.lesson_counts(session, [course_id]))[course_id]
        await self.enrollments.reopen(session, course_id, published)
        finished = await self.enrollments.to_complete(session, course_id, published)
        if not finished:
            return
        now = utcnow()
        await self.enrollments.set_completed(session, [e for e, _ in finished], now)
        for enrollment_id, user_id in finished:
            await events.enrollment_completed(session, enrollment_id, course_id, user_id, now)

    async def progress(
        self, session: AsyncSession, user_id: int, course_id: int | None = None
    ) -> list[ProgressItem]:
        """The user's own enrolments with their progress (one course's when `course_id`),
        latest first; four queries whatever their number."""
        rows = await self.enrollments.rows_of_user(session, user_id, course_id)
        if course_id is not None and not rows:
            raise NotEnrolled()
        return await self._items(session, user_id, rows)

    async def _items(
        self, session: AsyncSession, user_id: int, rows: Sequence[tuple[Enrollment, Course]]
    ) -> list[ProgressItem]:
        course_ids = [course.id for _, course in rows]
        published = await self.courses.lesson_counts(session, course_ids)
        done = await self.enrollments.completed_lessons(session, user_id, course_ids)
        instructors = {c.instructor_id for _, c in rows if c.instructor_id is not None}
        names = await self.members.names(session, instructors)
        return [
            ProgressItem(
                course=CourseSummary(
                    id=course.id,
                    title=course.title,
                    instructor=instructor_name(
                        course.instructor_id, names.get(course.instructor_id or 0)
                    ),
                ),
                progress_percentage=percentage(len(done[course.id]), published[course.id]),
                is_completed=enrollment.completed_at is not None,
                enrolled_at=enrollment.enrolled_at,
                completed_at=enrollment.completed_at,
                completed_lessons=min(len(done[course.id]), published[course.id]),
                total_lessons=published[course.id],
                completed_lesson_ids=done[course.id],
            )
            for enrollment, course in rows
        ]


progress_service = ProgressService()
