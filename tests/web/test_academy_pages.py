"""The academy's pages given bad input: a 4xx page that names the field, never a 500; and what
they do without JavaScript. The platform in-process, the pages called with httpx over ASGI."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
import pytest

from tests.web.inprocess import Pages


@dataclass
class Academy(Pages):
    other_course: int = 0
    """A course the instructor does not teach, with one published lesson."""
    other_lesson: int = 0


@pytest.fixture
async def academy(pages: Pages) -> Academy:
    site = Academy(pages.client, pages.admin_token, pages.runtime)
    course = await site.api(
        "POST", "/api/v1/courses", site.admin_token, {"title": "Scales", "price": "0"}
    )
    lesson = await site.api(
        "POST",
        f"/api/v1/courses/{course['id']}/lessons",
        site.admin_token,
        {"title": "Major scales", "order": 1, "is_published": True},
    )
    site.other_course, site.other_lesson = course["id"], lesson["id"]
    instructor = await site.register("ines")
    await site.api("PUT", f"/api/v1/users/{instructor}", site.admin_token, {"role": "instructor"})
    return site


def _error_beside(page: httpx.Response, field_id: str) -> str:
    found = re.search(rf'<p class="field-error" id="{field_id}-error">([^<]*)</p>', page.text)
    assert found is not None, f"no error beside {field_id}: {page.text[:300]}"
    return found.group(1)


async def test_a_bad_query_names_its_field(academy: Academy) -> None:
    await academy.register("nina")
    await academy.log_in("ines")
    cases = {
        "/courses?difficulty=EXPERT": "difficulty",
        "/courses?page=0": "page",
        "/courses?page=many": "page",
        "/courses?search=" + "x" * 201: "search",
        "/courses/nope": "course_id",
        f"/teaching/courses/{academy.other_course}/analytics?days=0": "days",
        f"/teaching/courses/{academy.other_course}/analytics?days=366": "days",
        "/teaching/courses/x/lessons/1": "course_id",
    }
    for path, field in cases.items():
        page = await academy.client.get(path)
        assert page.status_code == 400, path
        assert f"These values are not valid: {field}." in page.text, path
    missing = await academy.client.get("/courses/987654")
    assert missing.status_code == 404
    assert "Course not found" in missing.text
    # An empty level is the form's "All levels".
    assert (await academy.client.get("/courses?difficulty=&search=")).status_code == 200


async def test_a_refused_course_form_says_which_field(academy: Academy) -> None:
    await academy.log_in("ines")
    cases = [
        ({"title": ""}, "course-title", "Enter a title."),
        ({"duration_hours": "two"}, "duration_hours", "Enter a whole number."),
        ({"duration_hours": "-1"}, "duration_hours", "greater than or equal to 0"),
        ({"price": "cheap"}, "price", ""),
        ({"price": "-5"}, "price", ""),
        ({"difficulty_level": "GURU"}, "difficulty_level", ""),
    ]
    for fields, field_id, message in cases:
        values = {"title": "A course", "difficulty_level": "BEGINNER", "price": "0", **fields}
        page = await academy.post("/teaching/courses/new", **values)
        assert page.status_code == 400, fields
        assert message in _error_beside(page, field_id), fields

    created = await academy.post(
        "/teaching/courses/new", title="Ear training", difficulty_level="ADVANCED", price="9.5"
    )
    assert created.status_code == 303
    editor = created.headers["location"]
    assert re.fullmatch(r"/teaching/courses/\d+", editor)
    refused = await academy.post(editor, title="  ", difficulty_level="BEGINNER", price="x")
    assert refused.status_code == 400
    assert _error_beside(refused, "course-title") == "Enter a title."
    assert _error_beside(refused, "price")


async def test_a_refused_lesson_form_says_which_field(academy: Academy) -> None:
    await academy.log_in("ines")
    created = await academy.post("/teaching/courses/new", title="Ear training", price="0")
    editor = created.headers["location"]
    cases = [
        ({"title": ""}, "lesson-title"),
        ({"order": ""}, "order"),
        ({"order": "first"}, "order"),
        ({"order": "0"}, "order"),
        ({"duration_minutes": "1.5"}, "duration_minutes"),
        ({"video_url": "ftp://example.com/a.mp4"}, "video_url"),
    ]
    for fields, field_id in cases:
        page = await academy.post(
            f"{editor}/lessons", **{"title": "A lesson", "order": "1", **fields}
        )
        assert page.status_code == 400, fields
        assert _error_beside(page, field_id), fields

    first = await academy.post(f"{editor}/lessons", title="One", order="1")
    assert first.status_code == 303
    again = await academy.post(f"{editor}/lessons", title="Two", order="1")
    assert again.status_code == 400
    assert "already exists" in _error_beside(again, "order")
    lesson_id = re.search(r"#lesson-(\d+)", first.headers["location"]).group(1)  # type: ignore[union-attr]
    edited = await academy.post(f"{editor}/lessons/{lesson_id}", title="One", order="-3")
    assert edited.status_code == 400
    assert _error_beside(edited, "order")


async def test_teaching_is_for_the_courses_one_teaches(academy: Academy) -> None:
    await academy.register("nina")
    await academy.log_in("nina")
    assert (await academy.client.get("/teaching")).status_code == 403
    assert (await academy.post("/teaching/courses/new", title="Mine")).status_code == 403

    await academy.log_in("ines")
    other = f"/teaching/courses/{academy.other_course}"
    taken = await academy.post(other, title="Taken over", difficulty_level="BEGINNER", price="0")
    assert taken.status_code == 403
    assert "Not allowed" in taken.text
    assert (await academy.client.get(other)).status_code == 403
    assert (await academy.client.get(f"{other}/analytics")).status_code == 403
    publish = await academy.post(f"{other}/lessons/{academy.other_lesson}/unpublish")
    assert publish.status_code == 403


async def test_without_javascript_a_learner_enrols_and_marks_a_lesson_done(
    academy: Academy,
) -> None:
    course, lesson = academy.other_course, academy.other_lesson
    anonymous = await academy.post(f"/courses/{course}/enrol")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == f"/login?next=%2Fcourses%2F{course}%2Fenrol"

    await academy.register("nina")
    await academy.log_in("nina")
    assert (await academy.post("/courses/987654/enrol")).status_code == 404
    refused = await academy.post(f"/courses/{course}/lessons/{lesson}/done")
    assert refused.status_code == 303
    assert refused.headers["location"] == f"/courses/{course}"

    assert (await academy.post(f"/courses/{course}/enrol")).status_code == 303
    twice = await academy.post(f"/courses/{course}/enrol")
    assert twice.status_code == 303
    page = await academy.client.get(f"/courses/{course}")
    assert "Already enrolled" in page.text

    done = await academy.post(f"/courses/{course}/lessons/{lesson}/done")
    assert done.status_code == 303
    assert done.headers["location"] == f"/courses/{course}#lesson-{lesson}"
    page = await academy.client.get(f"/courses/{course}")
    assert "Course completed. Well done!" in page.text
    assert '<progress id="progress-bar" class="progress" max="100" value="100"' in page.text
    assert (await academy.post(f"/courses/{course}/lessons/987654/done")).status_code == 404

    left = await academy.post(f"/courses/{course}/withdraw")
    assert left.status_code == 303
    again = await academy.post(f"/courses/{course}/withdraw")
    assert again.status_code == 303
    assert "You were not enrolled" in (await academy.client.get(f"/courses/{course}")).text


async def test_a_lesson_done_long_ago_still_shows_as_done(academy: Academy) -> None:
    course = await academy.api(
        "POST", "/api/v1/courses", academy.admin_token, {"title": "Rhythm", "price": "0"}
    )
    lessons = [
        (
            await academy.api(
                "POST",
                f"/api/v1/courses/{course['id']}/lessons",
                academy.admin_token,
                {"title": f"Groove {order}", "order": order, "is_published": True},
            )
        )["id"]
        for order in range(1, 13)
    ]
    await academy.register("nina")
    token = await academy.token("nina")
    await academy.api("POST", f"/api/v1/enroll/{course['id']}", token)
    # The first lesson, then ten more: the first is no longer among the latest activity.
    for lesson in lessons[:11]:
        await academy.api(
            "PUT", f"/api/v1/courses/{course['id']}/lessons/{lesson}/completion", token
        )
    recent = (await academy.api("GET", "/api/v1/analytics", token))["recent_activity"]
    assert lessons[0] not in {entry.get("lesson_id") for entry in recent}

    await academy.log_in("nina")
    page = await academy.client.get(f"/courses/{course['id']}")
    assert page.status_code == 200
    shown_done = set(
        map(int, re.findall(r'<li class="lesson lesson-done" id="lesson-(\d+)">', page.text))
    )
    assert shown_done == set(lessons[:11])
    assert page.text.count(">Mark as done<") == 1
    assert f'action="/courses/{course["id"]}/lessons/{lessons[11]}/done"' in page.text
    assert "11 of 12 lessons done" in page.text
