"""The lists run a constant number of SQL statements whatever their length (counts and names are
one aggregate query per page, never one per row), and concurrent enrolments of one learner store
one row."""

from __future__ import annotations

import asyncio

import pytest

from tests.academy.conftest import ALICE_ID, IVY_ID, OLIVER_ID, Academy
from tests.support.statements import recorded_statements


async def _count(academy: Academy, url: str, headers: dict[str, str] | None = None) -> int:
    with recorded_statements(academy.database) as seen:
        response = await academy.client.get(url, headers=headers or {})
    assert response.status_code == 200, response.text
    return len(seen)


@pytest.mark.parametrize("engine", ["sqlite"])
async def test_statements_do_not_grow_with_the_rows(academy: Academy) -> None:
    await academy.add_member(IVY_ID, "ivy")
    counts: list[tuple[int, int, int, int]] = []
    stored = 0
    for total in (2, 12):  # courses, each with a lesson Alice enrolled in and completed
        for number in range(stored, total):
            course = await academy.add_course(
                f"Course {number}", instructor_id=(IVY_ID, OLIVER_ID, None)[number % 3]
            )
            lesson = await academy.add_lesson(course, 1)
            await academy.add_enrollment(ALICE_ID, course)
            await academy.add_completion(ALICE_ID, course, lesson)
        stored = total
        await academy.app.state.popular_courses.drop()
        counts.append(
            (
                await _count(academy, "/api/v1/courses"),
                await _count(academy, "/api/v1/courses/popular"),
                await _count(academy, "/api/v1/progress", academy.alice),
                await _count(academy, "/api/v1/analytics", academy.alice),
            )
        )
    assert counts[0] == counts[1], counts
    assert counts[0][0] == 2  # the count, and the page with its counts and names
    assert await _count(academy, "/api/v1/courses/popular") == 0  # cached: no statement


async def test_concurrent_enrolments_store_one(academy: Academy) -> None:
    course = await academy.add_course()
    responses = await asyncio.gather(
        *(academy.client.post(f"/api/v1/enroll/{course}", headers=academy.alice) for _ in range(6))
    )
    assert sorted(response.status_code for response in responses) == [201] + [400] * 5
    assert await academy.enrollments() == [(ALICE_ID, course, False)]
