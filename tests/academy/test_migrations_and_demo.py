"""Academy's migration builds exactly the schema its models declare and the database refuses
what the API refuses; the demo catalogue ships in the package and seeds once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bandstand.academy.demo import demo_courses, seed_demo
from bandstand.academy.models import AcademyBase, Course, Lesson
from bandstand.platform.database import Database
from bandstand.platform.migrations import upgrade
from tests.academy.conftest import MIGRATIONS, Academy
from tests.support.schema import schema_differences

NOW = datetime(2027, 1, 1, tzinfo=UTC)
COURSE_ROW = (
    "INSERT INTO courses (id, title, description, difficulty_level, duration_hours, price,"
    " is_active, search_text, created_at, updated_at) VALUES ({id}, 't', '', {level}, {hours},"
    " {price}, true, 't', :now, :now)"
)
LESSON_ROW = (
    'INSERT INTO lessons (course_id, title, content, video_url, duration_minutes, "order",'
    " is_published, created_at, updated_at) VALUES ({course}, 't', '', '', 0, {order}, true,"
    " :now, :now)"
)
REFUSED = [
    COURSE_ROW.format(id=2, level="'EXPERT'", hours=1, price=1),
    COURSE_ROW.format(id=2, level="'BEGINNER'", hours=-1, price=1),
    COURSE_ROW.format(id=2, level="'BEGINNER'", hours=1, price=-1),
    LESSON_ROW.format(course=1, order=1),  # the order is taken
    LESSON_ROW.format(course=1, order=0),
    LESSON_ROW.format(course=999, order=2),
    "INSERT INTO enrollments (user_id, course_id, enrolled_at) VALUES (7, 1, :now)",
    "INSERT INTO enrollments (user_id, course_id, enrolled_at) VALUES (8, 999, :now)",
]


async def test_migrations_match_the_models_and_constraints_hold(
    database_urls: Callable[[str], str],
) -> None:
    database = Database(database_urls("academy"))
    try:
        await upgrade(database, "academy", MIGRATIONS)
        await upgrade(database, "academy", MIGRATIONS)  # a second run is a no-op
        async with database.engine.connect() as connection:
            differences = await connection.run_sync(schema_differences(AcademyBase.metadata))
            tables = await connection.run_sync(lambda c: sorted(sa.inspect(c).get_table_names()))
        async with database.engine.begin() as connection:
            await connection.execute(
                sa.text(COURSE_ROW.format(id=1, level="'BEGINNER'", hours=1, price=1)),
                {"now": NOW},
            )
            await connection.execute(sa.text(LESSON_ROW.format(course=1, order=1)), {"now": NOW})
            await connection.execute(
                sa.text(
                    "INSERT INTO enrollments (user_id, course_id, enrolled_at) VALUES (7, 1, :now)"
                ),
                {"now": NOW},
            )
        for statement in REFUSED:
            with pytest.raises(IntegrityError):
                async with database.engine.begin() as connection:
                    await connection.execute(sa.text(statement), {"now": NOW})
    finally:
        await database.dispose()

    assert differences == []
    assert [table for table in tables if not table.startswith("courses_search_text_trigrams")] == [
        "alembic_version_academy",
        "courses",
        "enrollments",
        "lesson_completions",
        "lessons",
        "members",
        "outbox",
        "processed_messages",
    ]


def test_the_demo_catalogue_ships_and_validates() -> None:
    courses = demo_courses()
    assert len(courses) == 4
    assert len({course.title for course, _ in courses}) == 4
    for _, lessons in courses:
        assert len(lessons) >= 3
        assert sorted(lesson.order for lesson in lessons) == list(range(1, len(lessons) + 1))
        assert all(lesson.is_published for lesson in lessons)


async def test_seeding_twice_creates_nothing_the_second_time(academy: Academy) -> None:
    advanced: list[int] = []
    async with academy.database.session() as session, session.begin():
        first = await seed_demo(session, advanced.append)
    async with academy.database.session() as session, session.begin():
        second = await seed_demo(session)
    expected = sum(1 + len(lessons) for _, lessons in demo_courses())
    assert (first, second) == (expected, 0)
    assert sum(advanced) == expected
    assert await academy.count(Course) == 4
    assert await academy.count(Lesson) == expected - 4
    listed = (await academy.client.get("/api/v1/courses")).json()["results"]
    assert {course["instructor"] for course in listed} == {"Bandstand Academy"}
    assert all(course["lesson_count"] >= 3 for course in listed)
