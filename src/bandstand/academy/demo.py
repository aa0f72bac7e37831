"""The demo academy: four courses with their lessons, written for Bandstand, shipped in the
package. They are the academy's own courses (no instructor), their lessons published."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.academy.popular import PopularCourses
from bandstand.academy.schemas import CourseCreate, LessonCreate
from bandstand.academy.service import course_service
from bandstand.platform.cache import MemoryCache


def demo_courses() -> list[tuple[CourseCreate, list[LessonCreate]]]:
    """The courses of `demo/courses.json`, validated as an instructor's input would be."""
    source = resources.files("bandstand.academy").joinpath("demo", "courses.json")
    documents: list[dict[str, Any]] = json.loads(source.read_text(encoding="utf-8"))
    courses = []
    for document in documents:
        lessons = [
            LessonCreate.model_validate({**lesson, "is_published": True})
            for lesson in document.pop("lessons")
        ]
        courses.append((CourseCreate.model_validate(document), lessons))
    return courses


async def seed_demo(session: AsyncSession, progress: Callable[[int], None] | None = None) -> int:
    """Add the demo courses that are not there yet (matched by title) with their lessons; the
    number of rows created. `progress` is told of each row created. The caller commits."""
    # A new course has no enrolments: no cached ranking of a running service is made wrong
    # beyond the minute it is kept.
    popular = PopularCourses(MemoryCache(), ttl=0)
    created = 0
    for data, lessons in demo_courses():
        if await course_service.courses.by_title(session, data.title) is not None:
            continue
        course = await course_service.create(session, data, None, popular)
        for lesson in lessons:
            await course_service.create_lesson(session, course, lesson, None, popular)
        created += 1 + len(lessons)
        if progress is not None:
            progress(1 + len(lessons))
    return created
