"""The permission matrix: anonymous, a learner, the course's instructor, another instructor and an
admin, on every route that changes something or shows what is not public."""

from __future__ import annotations

from typing import Any

import pytest

from tests.academy.conftest import LESSON, Academy

CALLERS = ("anonymous", "user", "instructor", "other_instructor", "admin")


def _headers(academy: Academy, caller: str) -> dict[str, str]:
    return {
        "anonymous": {},
        "user": academy.alice,
        "instructor": academy.ivy,
        "other_instructor": academy.oliver,
        "admin": academy.admin,
    }[caller]


# (method, path, body, the status per caller in CALLERS' order). The course (id {c}, taught by
# the instructor) has a published lesson {l} and a draft {d}.
ROUTES: list[tuple[str, str, dict[str, Any] | None, tuple[int, ...]]] = [
    ("POST", "/api/v1/courses", {"title": "New"}, (401, 403, 201, 201, 201)),
    ("POST", "/api/v1/courses/create", {"title": "New"}, (401, 403, 201, 201, 201)),
    ("PATCH", "/api/v1/courses/{c}", {"title": "Changed"}, (401, 403, 200, 403, 200)),
    ("DELETE", "/api/v1/courses/{c}", None, (401, 403, 204, 403, 204)),
    ("GET", "/api/v1/courses/{c}/analytics", None, (401, 403, 200, 403, 200)),
    ("POST", "/api/v1/courses/{c}/lessons", {**LESSON, "order": 9}, (401, 403, 201, 403, 201)),
    ("PATCH", "/api/v1/courses/{c}/lessons/{l}", {"title": "x"}, (401, 403, 200, 403, 200)),
    ("DELETE", "/api/v1/courses/{c}/lessons/{l}", None, (401, 403, 204, 403, 204)),
    ("GET", "/api/v1/courses/{c}/lessons/{d}", None, (404, 404, 200, 404, 200)),
    ("GET", "/api/v1/courses/{c}/lessons?include_drafts=1", None, (403, 403, 200, 403, 200)),
    ("PUT", "/api/v1/courses/{c}/lessons/{l}/completion", None, (401, 403, 403, 403, 403)),
    ("POST", "/api/v1/enroll/{c}", None, (401, 201, 201, 201, 201)),
    ("DELETE", "/api/v1/enroll/{c}", None, (401, 404, 404, 404, 404)),
    ("GET", "/api/v1/progress", None, (401, 200, 200, 200, 200)),
    ("GET", "/api/v1/progress/{c}", None, (401, 404, 404, 404, 404)),
    ("GET", "/api/v1/analytics", None, (401, 200, 200, 200, 200)),
]


async def test_who_may_do_what(academy: Academy) -> None:
    """One test for the whole matrix: a fresh course per route and caller."""
    for method, path, body, expected in ROUTES:
        for caller, status in zip(CALLERS, expected, strict=True):
            course = await academy.add_course(f"Course for {caller}")
            published = await academy.add_lesson(course, 1)
            draft = await academy.add_lesson(course, 2, is_published=False)
            url = path.format(c=course, l=published, d=draft)
            response = await academy.client.request(
                method, url, json=body, headers=_headers(academy, caller)
            )
            assert response.status_code == status, (method, path, caller, response.text)
            if status in (401, 403):
                assert response.json()["error"] == response.json()["detail"]


async def test_an_instructor_demoted_to_user_no_longer_edits(academy: Academy) -> None:
    course = await academy.add_course()
    as_user = academy.tokens.headers(user_id=4, role="user")
    response = await academy.client.patch(
        f"/api/v1/courses/{course}", json={"title": "Mine?"}, headers=as_user
    )
    assert response.status_code == 403


async def test_the_academy_s_own_courses_are_changed_by_an_admin_only(academy: Academy) -> None:
    course = await academy.add_course(instructor_id=None)
    read = await academy.client.get(f"/api/v1/courses/{course}")
    assert (read.json()["instructor"], read.json()["instructor_id"]) == ("Bandstand Academy", None)
    for headers, status in ((academy.ivy, 403), (academy.admin, 200)):
        response = await academy.client.patch(
            f"/api/v1/courses/{course}", json={"title": "House"}, headers=headers
        )
        assert response.status_code == status


@pytest.mark.parametrize("token", ["not-a-token", "Bearer"])
async def test_a_bad_token_is_401_never_500(academy: Academy, token: str) -> None:
    response = await academy.client.get(
        "/api/v1/progress", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401
