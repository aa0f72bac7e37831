"""Bad input on every write answers 400 naming the field (with `error` beside `detail`), never a
500, and stores nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.academy.conftest import COURSE, LESSON, Academy, error_fields

BAD_COURSES: list[tuple[dict[str, Any], str]] = [
    ({**COURSE, "title": ""}, "title"),
    ({**COURSE, "title": "   "}, "title"),
    ({**COURSE, "title": "x" * 201}, "title"),
    ({**COURSE, "title": "nul\x00"}, "title"),
    ({key: value for key, value in COURSE.items() if key != "title"}, "title"),
    ({**COURSE, "difficulty_level": "EXPERT"}, "difficulty_level"),
    ({**COURSE, "duration_hours": -1}, "duration_hours"),
    ({**COURSE, "duration_hours": "10"}, "duration_hours"),
    ({**COURSE, "duration_hours": 10.5}, "duration_hours"),
    ({**COURSE, "price": "-1.00"}, "price"),
    ({**COURSE, "price": "12.345"}, "price"),
    ({**COURSE, "price": "lots"}, "price"),
    ({**COURSE, "price": "NaN"}, "price"),
    ({**COURSE, "price": "123456789.00"}, "price"),
    ({**COURSE, "is_active": "yes"}, "is_active"),
    ({**COURSE, "instructor_id": 5}, "instructor_id"),
    ({**COURSE, "id": 5}, "id"),
]
BAD_LESSONS: list[tuple[dict[str, Any], str]] = [
    ({**LESSON, "title": ""}, "title"),
    ({key: value for key, value in LESSON.items() if key != "order"}, "order"),
    ({**LESSON, "order": 0}, "order"),
    ({**LESSON, "order": "1"}, "order"),
    ({**LESSON, "order": 10**12}, "order"),
    ({**LESSON, "video_url": "javascript:alert(1)"}, "video_url"),
    ({**LESSON, "video_url": "https://a b"}, "video_url"),
    ({**LESSON, "duration_minutes": -5}, "duration_minutes"),
    ({**LESSON, "is_published": "true"}, "is_published"),
    ({**LESSON, "course_id": 9}, "course_id"),
    ({**LESSON, "content": "\x00"}, "content"),
]


async def _assert_refused(academy: Academy, response: Any, field: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert field in error_fields(body)
    assert field in body["error"]


@pytest.mark.parametrize("path", ["/api/v1/courses", "/api/v1/courses/create"])
async def test_bad_courses_are_refused(academy: Academy, path: str) -> None:
    before = await academy.snapshot()
    for body, field in BAD_COURSES:
        response = await academy.client.post(path, json=body, headers=academy.ivy)
        await _assert_refused(academy, response, field)
    assert await academy.snapshot() == before
    assert await academy.outbox() == []


async def test_bad_course_changes_are_refused(academy: Academy) -> None:
    course_id = await academy.add_course()
    before = await academy.snapshot()
    for body, field in [*BAD_COURSES, ({"title": None}, "title"), ({"price": None}, "price")]:
        if field == "title" and "title" not in body:
            continue  # a partial change may leave the title out
        response = await academy.client.patch(
            f"/api/v1/courses/{course_id}", json=body, headers=academy.ivy
        )
        assert response.status_code == 400, (body, response.text)
        assert field in error_fields(response.json())
    assert await academy.snapshot() == before


async def test_bad_lessons_and_lesson_changes_are_refused(academy: Academy) -> None:
    course_id = await academy.add_course()
    lesson_id = await academy.add_lesson(course_id, 1)
    before = await academy.snapshot()
    for body, field in BAD_LESSONS:
        created = await academy.client.post(
            f"/api/v1/courses/{course_id}/lessons", json=body, headers=academy.ivy
        )
        await _assert_refused(academy, created, field)
        if field == "order" and "order" not in body:
            continue
        changed = await academy.client.patch(
            f"/api/v1/courses/{course_id}/lessons/{lesson_id}", json=body, headers=academy.ivy
        )
        await _assert_refused(academy, changed, field)
    nulled = await academy.client.patch(
        f"/api/v1/courses/{course_id}/lessons/{lesson_id}",
        json={"is_published": None},
        headers=academy.ivy,
    )
    assert nulled.status_code == 400
    assert await academy.snapshot() == before


@pytest.mark.parametrize(
    "body",
    ["not json", "[1, 2]", '{"title": "unclosed"', ""],
    ids=["text", "list", "broken", "empty"],
)
async def test_a_body_that_is_no_object_is_refused(academy: Academy, body: str) -> None:
    response = await academy.client.post(
        "/api/v1/courses/create",
        content=body,
        headers={**academy.ivy, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "error" in response.json()
    assert await academy.outbox() == []


BAD_REQUESTS = [
    ("POST", "/api/v1/enroll/abc"),
    ("DELETE", "/api/v1/enroll/1.5"),
    ("GET", "/api/v1/progress/abc"),
    ("PUT", "/api/v1/courses/x/lessons/1/completion"),
    ("PUT", "/api/v1/courses/1/lessons/y/completion"),
    ("GET", "/api/v1/courses?difficulty=EXPERT"),
    ("GET", "/api/v1/courses?page=0"),
    ("GET", "/api/v1/courses?page_size=1000"),
    ("GET", "/api/v1/courses?search=%00"),
    ("GET", "/api/v1/courses/popular?page=abc"),
    ("GET", "/api/v1/courses/1/analytics?days=0"),
    ("GET", "/api/v1/courses/1/analytics?days=366"),
]


async def test_bad_paths_and_queries_are_400(academy: Academy) -> None:
    await academy.add_course()
    for method, path in BAD_REQUESTS:
        response = await academy.client.request(method, path, headers=academy.admin)
        assert response.status_code == 400, (path, response.text)
        assert "error" in response.json()
    assert await academy.enrollments() == []


async def test_huge_ids_are_not_found(academy: Academy) -> None:
    huge = 2**63
    for method, path in [
        ("POST", f"/api/v1/enroll/{huge}"),
        ("GET", f"/api/v1/courses/{huge}/lessons/{huge}"),
        ("PUT", f"/api/v1/courses/{huge}/lessons/1/completion"),
        ("DELETE", f"/api/v1/enroll/{huge}"),
    ]:
        response = await academy.client.request(method, path, headers=academy.admin)
        assert response.status_code in (400, 404), (path, response.text)
