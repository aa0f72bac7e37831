"""Arbitrary bodies and query strings never make an academy route answer 500: every write either
succeeds or is a 4xx that stores nothing. The rules are the engine's business elsewhere; this
runs on SQLite."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.academy.conftest import COURSE, LESSON, Academy

pytestmark = pytest.mark.parametrize("engine", ["sqlite"])
FUZZ_SETTINGS = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["", "\x00", "1e400", "NaN", "-0.00", "99999999.99", "ADVANCED", "http://x"])
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=5,
)


def _bodies(base: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    fields = st.sampled_from([*base, "id", "course_id", "instructor_id", "created_at"])
    changes = st.dictionaries(fields, json_values, max_size=4)
    return changes.map(lambda extra: {**base, **extra}) | changes


@FUZZ_SETTINGS
@given(
    course_body=_bodies(COURSE),
    lesson_body=_bodies(LESSON),
    method=st.sampled_from(["POST", "PATCH"]),
)
async def test_course_and_lesson_writes(
    academy: Academy, course_body: dict[str, Any], lesson_body: dict[str, Any], method: str
) -> None:
    course = await academy.add_course()
    lesson = await academy.add_lesson(course, 1)
    for path, body in (
        ("/api/v1/courses" if method == "POST" else f"/api/v1/courses/{course}", course_body),
        (
            f"/api/v1/courses/{course}/lessons"
            if method == "POST"
            else f"/api/v1/courses/{course}/lessons/{lesson}",
            lesson_body,
        ),
    ):
        before = await academy.snapshot()
        response = await academy.client.request(method, path, json=body, headers=academy.admin)
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            assert "error" in response.json()
            assert await academy.snapshot() == before


@FUZZ_SETTINGS
@given(
    query=st.dictionaries(
        st.sampled_from(["page", "page_size", "difficulty", "search", "days", "include_drafts"]),
        st.text(max_size=12),
        max_size=3,
    )
)
async def test_list_queries(academy: Academy, query: dict[str, str]) -> None:
    course = await academy.add_course()
    for path in (
        "/api/v1/courses",
        "/api/v1/courses/popular",
        f"/api/v1/courses/{course}/lessons",
        f"/api/v1/courses/{course}/analytics",
    ):
        response = await academy.client.get(path, params=query, headers=academy.ivy)
        assert response.status_code < 500, (path, query, response.text)
