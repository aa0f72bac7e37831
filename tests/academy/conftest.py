"""Academy's test fixtures: the service harness with tokens for every role, and helpers to store
rows and look at what was stored."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

import bandstand.academy
from bandstand.academy.app import create_app
from bandstand.academy.models import (
    AcademyBase,
    Course,
    Enrollment,
    Lesson,
    LessonCompletion,
    Member,
)
from tests.support.harness import Headers, ServiceHarness

MIGRATIONS = Path(bandstand.academy.__file__).parent / "migrations"
ADMIN_ID = 1
ALICE_ID = 2  # a learner
BOB_ID = 3  # another learner
IVY_ID = 4  # an instructor
OLIVER_ID = 5  # another instructor

TABLES = (Course, Lesson, Enrollment, LessonCompletion, Member)


def error_fields(body: dict[str, Any]) -> list[str]:
    """The field names a validation error body points at (FastAPI's list form)."""
    detail = body.get("detail")
    assert isinstance(detail, list), body
    return [str(part) for error in detail for part in error["loc"] if part != "body"]


class Academy(ServiceHarness):
    """The running academy app, its database, and tokens for every role."""

    name = "academy"
    app_factory = create_app
    migrations = MIGRATIONS
    metadata = AcademyBase.metadata
    users = {
        "admin": (ADMIN_ID, "admin"),
        "alice": (ALICE_ID, "user"),
        "bob": (BOB_ID, "user"),
        "ivy": (IVY_ID, "instructor"),
        "oliver": (OLIVER_ID, "instructor"),
    }
    admin: Headers
    alice: Headers
    bob: Headers
    ivy: Headers
    oliver: Headers

    async def add_course(
        self,
        title: str = "Reading Music",
        *,
        instructor_id: int | None = IVY_ID,
        difficulty_level: str = "BEGINNER",
        description: str = "",
        is_active: bool = True,
        price: str = "10.00",
    ) -> int:
        """Store a course directly (no request, no event); its id."""
        now = datetime.now(UTC)
        async with self.session() as session:
            course = Course(
                title=title,
                description=description,
                instructor_id=instructor_id,
                difficulty_level=difficulty_level,
                duration_hours=3,
                price=Decimal(price),
                is_active=is_active,
                created_at=now,
                updated_at=now,
            )
            session.add(course)
            await session.flush()
            return course.id

    async def add_lesson(
        self, course_id: int, order: int, *, is_published: bool = True, title: str = ""
    ) -> int:
        now = datetime.now(UTC)
        async with self.session() as session:
            lesson = Lesson(
                course_id=course_id,
                title=title or f"Lesson {order}",
                content="",
                video_url="",
                duration_minutes=10,
                order=order,
                is_published=is_published,
                created_at=now,
                updated_at=now,
            )
            session.add(lesson)
            await session.flush()
            return lesson.id

    async def add_enrollment(
        self, user_id: int, course_id: int, *, enrolled_at: datetime | None = None
    ) -> int:
        async with self.session() as session:
            enrollment = Enrollment(
                user_id=user_id, course_id=course_id, enrolled_at=enrolled_at or datetime.now(UTC)
            )
            session.add(enrollment)
            await session.flush()
            return enrollment.id

    async def add_completion(self, user_id: int, course_id: int, lesson_id: int) -> None:
        async with self.session() as session:
            session.add(
                LessonCompletion(
                    user_id=user_id,
                    course_id=course_id,
                    lesson_id=lesson_id,
                    completed_at=datetime.now(UTC),
                )
            )

    async def add_member(self, user_id: int, username: str) -> None:
        async with self.session() as session:
            session.add(Member(user_id=user_id, username=username, updated_at=datetime.now(UTC)))

    async def snapshot(self, *models: Any) -> dict[str, list[dict[str, Any]]]:
        """Every row of the academy's own tables, to compare before and after a refusal."""
        return await super().snapshot(*(models or TABLES))

    async def enrollments(self) -> list[tuple[int, int, bool]]:
        """Every stored (user_id, course_id, completed)."""
        async with self.database.session() as session:
            rows = await session.execute(
                select(Enrollment.user_id, Enrollment.course_id, Enrollment.completed_at).order_by(
                    Enrollment.user_id, Enrollment.course_id
                )
            )
            return [(int(u), int(c), done is not None) for u, c, done in rows]

    async def completions(self) -> list[tuple[int, int]]:
        """Every stored (user_id, lesson_id)."""
        async with self.database.session() as session:
            rows = await session.execute(
                select(LessonCompletion.user_id, LessonCompletion.lesson_id).order_by(
                    LessonCompletion.user_id, LessonCompletion.lesson_id
                )
            )
            return [(int(u), int(lesson)) for u, lesson in rows]


academy_database_url, academy_settings, academy, client = Academy.fixtures()
running_academy = Academy.running


COURSE = {
    "title": "Home Recording",
    "description": "One microphone and a quiet corner.",
    "difficulty_level": "INTERMEDIATE",
    "duration_hours": 10,
    "price": "39.00",
}
LESSON = {
    "title": "Gain staging",
    "content": "Levels without clipping.",
    "video_url": "https://videos.example.com/gain",
    "duration_minutes": 28,
    "order": 1,
    "is_published": True,
}
