"""Academy's catalogue use cases: courses and their lessons.

An instructor creates courses (they teach them: `instructor_id` is the caller's id) and changes
only their own; an admin changes any. A course that is not active, and a lesson that is not
published, are seen only by those who may change them. Every method takes the request's session
and never commits; events go to the outbox in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from fastapi import Request
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.academy import events
from bandstand.academy.access import can_manage, can_see
from bandstand.academy.models import Course, Lesson
from bandstand.academy.popular import POPULAR_LIMIT, PopularCourses
from bandstand.academy.progress import (
    CourseNotFound,
    LessonNotFound,
    instructor_name,
    progress_service,
)
from bandstand.academy.repository import CourseRepository, LessonRepository, MemberRepository
from bandstand.academy.schemas import (
    CourseCreate,
    CourseRead,
    CourseUpdate,
    LessonCreate,
    LessonUpdate,
)
from bandstand.platform.errors import Conflict, Forbidden
from bandstand.platform.pagination import PageParams, paginate
from bandstand.platform.rows import changed_fields
from bandstand.platform.security import Principal


class OrderTaken(Conflict):
    def __init__(self, order: int) -> None:
        super().__init__(f"A lesson with order {order} already exists in this course")


class CourseService:
    def __init__(self) -> None:
        self.courses = CourseRepository()
        self.lessons = LessonRepository()
        self.members = MemberRepository()

    # Courses

    async def page(
        self,
        session: AsyncSession,
        pagination: PageParams,
        request: Request,
        *,
        difficulty: str | None,
        search: str | None,
    ) -> dict[str, Any]:
        """One page of the active courses: two statements whatever its size (count, and the
        page with its counts and names). Its results are plain dicts of `CourseRead`'s fields,
        validated once with the page (`endpoints.COURSE_PAGE`)."""
        statement = self.courses.listing(
            difficulty=difficulty, search=search.strip() if search else None
        )
        page = await paginate(session, statement, pagination, request, scalars=False)
        results = [row._asdict() for row in page["results"]]
        for course in results:
            course["instructor"] = instructor_name(course["instructor_id"], course["instructor"])
        page["results"] = results
        return page

    async def get_visible(
        self, session: AsyncSession, course_id: int, viewer: Principal | None
    ) -> Course:
        course = await self.courses.get(session, course_id)
        if course is None or not can_see(course, viewer):
            raise CourseNotFound()
        return course

    async def get_managed(
        self, session: AsyncSession, course_id: int, principal: Principal, *, lock: bool = False
    ) -> Course:
        """The course, for a change by `principal`: 404 when they cannot see it, 403 when they
        see it but may not change it."""
        course = await self.courses.get(session, course_id, lock=lock)
        if course is None or not can_see(course, principal):
            raise CourseNotFound()
        if not can_manage(course, principal):
            raise Forbidden("Only the course's instructor or an admin may change it")
        return course

    async def views(self, session: AsyncSession, courses: Sequence[Course]) -> list[CourseRead]:
        """The courses as read: three queries whatever their number."""
        ids = [course.id for course in courses]
        lessons = await self.courses.lesson_counts(session, ids)
        enrolled = await self.courses.enrollment_counts(session, ids)
        instructors = {c.instructor_id for c in courses if c.instructor_id is not None}
        names = await self.members.names(session, instructors)
        return [
            CourseRead(
                id=course.id,
                title=course.title,
                description=course.description,
                instructor=instructor_name(
                    course.instructor_id, names.get(course.instructor_id or 0)
                ),
                instructor_id=course.instructor_id,
                difficulty_level=course.difficulty_level,
                duration_hours=course.duration_hours,
                price=Decimal(course.price),
                is_active=course.is_active,
                lesson_count=lessons[course.id],
                enrollment_count=enrolled[course.id],
                created_at=course.created_at,
                updated_at=course.updated_at,
            )
            for course in courses
        ]

    async def view(self, session: AsyncSession, course: Course) -> CourseRead:
        (read,) = await self.views(session, [course])
        return read

    async def popular(self, session: AsyncSession, popular: PopularCourses) -> list[dict[str, Any]]:
        """The ranking of active courses by enrolments, as the cache holds it or computed (and
        then stored): one computation per process at a time."""
        async with popular.filling():
            cached = await popular.read()
            if cached is not None:
                return cached
            courses = await self.courses.popular(session, POPULAR_LIMIT)
            views = await self.views(session, courses)
            ranking = [read.model_dump(mode="json") for read in views]
            await popular.store(ranking)
            return ranking

    async def create(
        self,
        session: AsyncSession,
        data: CourseCreate,
        instructor: Principal | None,
        popular: PopularCourses,
    ) -> Course:
        """A course taught by `instructor` (None: one of the academy's own)."""
        course = Course(
            **data.model_dump(), instructor_id=instructor.id if instructor is not None else None
        )
        await self.courses.add(session, course)
        await events.COURSES.created(
            session, course, instructor.id if instructor is not None else None
        )
        popular.invalidate(session)
        return course

    async def update(
        self,
        session: AsyncSession,
        course: Course,
        data: CourseUpdate,
        actor: Principal,
        popular: PopularCourses,
    ) -> Course:
        changes = data.changes()
        changed = changed_fields(course, changes)
        if not changed:
            return course
        await events.COURSES.apply(session, course, changes, changed, actor.id)
        popular.invalidate(session)
        return course

    async def delete(
        self, session: AsyncSession, course: Course, actor: Principal, popular: PopularCourses
    ) -> None:
        """The course goes with its lessons, enrolments and completions."""
        await self.courses.delete(session, course)
        await events.COURSES.deleted(session, course, actor.id)
        popular.invalidate(session)

    # Lessons

    def lessons_of(self, course: Course, *, published_only: bool) -> Select[Lesson]:
        return self.lessons.of_course(course.id, published_only=published_only)

    async def get_lesson(
        self, session: AsyncSession, course: Course, lesson_id: int, viewer: Principal | None
    ) -> Lesson:
        lesson = await self.lessons.get(session, course.id, lesson_id)
        if lesson is None or not (lesson.is_published or can_manage(course, viewer)):
            raise LessonNotFound()
        return lesson

    async def create_lesson(
        self,
        session: AsyncSession,
        course: Course,
        data: LessonCreate,
        actor: Principal | None,
        popular: PopularCourses,
    ) -> Lesson:
        """The caller holds the course's row lock (`get_managed(..., lock=True)`)."""
        if await self.lessons.order_taken(session, course.id, data.order):
            raise OrderTaken(data.order)
        lesson = Lesson(**data.model_dump(), course_id=course.id)
        await self.lessons.add(session, lesson)
        await events.LESSONS.created(session, lesson, actor.id if actor is not None else None)
        if lesson.is_published:
            await self._published_lessons_changed(session, course, popular)
        return lesson

    async def update_lesson(
        self,
        session: AsyncSession,
        course: Course,
        lesson: Lesson,
        data: LessonUpdate,
        actor: Principal,
        popular: PopularCourses,
    ) -> Lesson:
        changes = data.changes()
        changed = changed_fields(lesson, changes)
        if not changed:
            return lesson
        if "order" in changed and await self.lessons.order_taken(
            session, course.id, changes["order"], besides=lesson.id
        ):
            raise OrderTaken(changes["order"])
        await events.LESSONS.apply(session, lesson, changes, changed, actor.id)
        if "is_published" in changed:
            await self._published_lessons_changed(session, course, popular)
        return lesson

    async def delete_lesson(
        self,
        session: AsyncSession,
        course: Course,
        lesson: Lesson,
        actor: Principal,
        popular: PopularCourses,
    ) -> None:
        was_published = lesson.is_published
        await self.lessons.delete(session, lesson)
        await events.LESSONS.deleted(session, lesson, actor.id)
        if was_published:
            await self._published_lessons_changed(session, course, popular)

    async def _published_lessons_changed(
        self, session: AsyncSession, course: Course, popular: PopularCourses
    ) -> None:
        await progress_service.reconcile(session, course.id)
        popular.invalidate(session)  # the lesson count is part of every course read


course_service = CourseService()
