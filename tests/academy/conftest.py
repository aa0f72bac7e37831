"""Academy's test fixtures: an empty migrated database per test on each engine, the app with its
lifespan running, tokens signed as identity signs them for every role, and helpers to store rows
and look at what was stored."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

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
from bandstand.platform.database import Database
from bandstand.platform.runtime import Runtime
from bandstand.platform.settings import Settings
from tests.support.client import api_client
from tests.support.databases import MigratedDatabases
from tests.support.outbox import outbox_events
from tests.support.tokens import TokenFactory

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


class Academy:
    """The running academy app, its database, and tokens for every role."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient, tokens: TokenFactory) -> None:
        self.app = app
        self.client = client
        self.tokens = tokens
        self.admin = tokens.headers(user_id=ADMIN_ID, role="admin")
        self.alice = tokens.headers(user_id=ALICE_ID)
        self.bob = tokens.headers(user_id=BOB_ID)
        self.ivy = tokens.headers(user_id=IVY_ID, role="instructor")
        self.oliver = tokens.headers(user_id=OLIVER_ID, role="instructor")

    @property
    def database(self) -> Database:
        database: Database = self.app.state.database
        return database

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
        async with self.database.session() as session, session.begin():
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
        async with self.database.session() as session, session.begin():
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
        async with self.database.session() as session, session.begin():
            enrollment = Enrollment(
                user_id=user_id, course_id=course_id, enrolled_at=enrolled_at or datetime.now(UTC)
            )
            session.add(enrollment)
            await session.flush()
            return enrollment.id

    async def add_completion(self, user_id: int, course_id: int, lesson_id: int) -> None:
        async with self.database.session() as session, session.begin():
            session.add(
                LessonCompletion(
                    user_id=user_id,
                    course_id=course_id,
                    lesson_id=lesson_id,
                    completed_at=datetime.now(UTC),
                )
            )

    async def add_member(self, user_id: int, username: str) -> None:
        async with self.database.session() as session, session.begin():
            session.add(Member(user_id=user_id, username=username, updated_at=datetime.now(UTC)))

    async def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of the academy's own tables, to compare before and after a refusal."""
        tables: dict[str, list[dict[str, Any]]] = {}
        async with self.database.session() as session:
            for model in TABLES:
                columns = [column.key for column in model.__table__.columns]
                rows = (await session.execute(select(model))).scalars().all()
                tables[model.__tablename__] = sorted(
                    ({key: getattr(row, key) for key in columns} for row in rows), key=repr
                )
        return tables

    async def count(self, model: type[AcademyBase]) -> int:
        async with self.database.session() as session:
            statement = select(func.count()).select_from(model)
            return int((await session.execute(statement)).scalar_one())

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

    async def outbox(self, prefix: str = "academy.") -> list[dict[str, Any]]:
        messages = await outbox_events(self.database, prefix)
        assert all(message["source"] == "academy" for message in messages)
        return messages

    async def event_types(self) -> list[str]:
        return [message["type"] for message in await self.outbox()]


@pytest.fixture
async def academy_database_url(
    engine: str, migrated_databases: MigratedDatabases, tmp_path: Path
) -> str:
    """An empty, migrated academy database on the engine under test."""
    return await migrated_databases.fresh(
        engine, "academy", MIGRATIONS, AcademyBase.metadata, tmp_path
    )


@pytest.fixture
def academy_settings(make_settings: Callable[..., Settings], academy_database_url: str) -> Settings:
    return make_settings(databases={"academy": academy_database_url})


@pytest.fixture
def token_factory() -> TokenFactory:
    return TokenFactory()


@asynccontextmanager
async def running_academy(
    settings: Settings, tokens: TokenFactory, **options: Any
) -> AsyncIterator[Academy]:
    """The academy app on `settings`, its lifespan running, trusting `tokens`' key."""
    app = create_app(Runtime(settings, jwks_fetch=tokens.jwks), **options)
    async with api_client(app, raise_app_exceptions=False) as client:
        yield Academy(app, client, tokens)


@pytest.fixture
async def academy(
    academy_settings: Settings, token_factory: TokenFactory
) -> AsyncIterator[Academy]:
    async with running_academy(academy_settings, token_factory) as harness:
        yield harness


@pytest.fixture
def client(academy: Academy) -> httpx.AsyncClient:
    return academy.client


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
