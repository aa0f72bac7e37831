"""Courses and lessons: the learning platform's routes and their canonical REST companions."""

from __future__ import annotations

from tests.academy.conftest import ALICE_ID, COURSE, IVY_ID, LESSON, OLIVER_ID, Academy
from tests.support.bodies import assert_lists_exactly


async def test_an_instructor_creates_a_course_they_teach(academy: Academy) -> None:
    await academy.add_member(IVY_ID, "ivy")
    created = await academy.client.post("/api/v1/courses/create/", json=COURSE, headers=academy.ivy)
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"] == f"/api/v1/courses/{body['id']}"
    assert {key: body[key] for key in COURSE} == COURSE
    assert body["instructor"] == "ivy"
    assert body["instructor_id"] == IVY_ID
    assert (body["is_active"], body["lesson_count"], body["enrollment_count"]) == (True, 0, 0)
    assert body["created_at"].endswith("Z") or body["created_at"].endswith("+00:00")

    canonical = await academy.client.post(
        "/api/v1/courses", json={"title": "Second"}, headers=academy.ivy
    )
    assert canonical.status_code == 201, canonical.text
    defaults = canonical.json()
    assert (defaults["difficulty_level"], defaults["price"], defaults["duration_hours"]) == (
        "BEGINNER",
        "0.00",
        0,
    )
    fetched = await academy.client.get(f"/api/v1/courses/{body['id']}/")
    assert fetched.json() == body
    events = await academy.outbox()
    assert [event["type"] for event in events] == ["academy.course.created"] * 2
    assert events[0]["payload"] == {
        "course_id": body["id"],
        "title": COURSE["title"],
        "instructor_id": IVY_ID,
        "actor_id": IVY_ID,
    }


async def test_an_unknown_instructor_is_named_by_id(academy: Academy) -> None:
    created = await academy.client.post("/api/v1/courses", json=COURSE, headers=academy.oliver)
    assert created.json()["instructor"] == f"Instructor #{OLIVER_ID}"


async def test_the_list_shows_active_courses_filtered_and_paginated(academy: Academy) -> None:
    first = await academy.add_course("Reading Music", description="Staves and clefs")
    await academy.add_course("Hidden", is_active=False)
    advanced = await academy.add_course("Arranging", difficulty_level="ADVANCED")
    for number in range(21):
        await academy.add_course(f"Filler {number:02}")

    page = await academy.client.get("/api/v1/courses/")
    body = page.json()
    assert body["count"] == 23
    assert len(body["results"]) == 20
    assert body["next"] is not None
    assert body["previous"] is None
    assert [item["id"] for item in body["results"][:2]] == [first, advanced]
    second = await academy.client.get(body["next"])
    assert len(second.json()["results"]) == 3

    levels = await academy.client.get("/api/v1/courses", params={"difficulty": "ADVANCED"})
    assert [item["id"] for item in levels.json()["results"]] == [advanced]
    search = await academy.client.get("/api/v1/courses", params={"search": "CLEFS"})
    assert [item["id"] for item in search.json()["results"]] == [first]
    literal = await academy.client.get("/api/v1/courses", params={"search": "100%_"})
    assert literal.json()["count"] == 0


async def test_a_listed_course_is_written_exactly_as_the_course_alone(academy: Academy) -> None:
    await academy.add_member(IVY_ID, "ivy ✓")
    taught = await academy.add_course(
        'Ivy\'s "own"', description="Clefs\nand staves", price="12.50"
    )
    own = await academy.add_course("The academy's", instructor_id=None, price="0")
    unknown = await academy.add_course("Unknown teacher", instructor_id=OLIVER_ID, price="99.99")
    await academy.add_lesson(taught, 1)
    await academy.add_lesson(taught, 2)
    await academy.add_lesson(taught, 3, is_published=False)
    await academy.add_enrollment(ALICE_ID, taught)
    await academy.add_enrollment(IVY_ID, own)
    alone = []
    for course in (taught, own, unknown):
        response = await academy.client.get(f"/api/v1/courses/{course}")
        assert response.status_code == 200
        alone.append(response.content)
    for headers in ({}, academy.alice):
        page = await academy.client.get("/api/v1/courses", headers=headers)
        assert_lists_exactly(page.content, alone)
        assert page.content.startswith(b'{"count":3,"next":null,"previous":null,"results":[')
    assert [item["instructor"] for item in page.json()["results"]] == [
        "ivy ✓",
        "Bandstand Academy",
        f"Instructor #{OLIVER_ID}",
    ]
    assert [
        (item["lesson_count"], item["enrollment_count"]) for item in page.json()["results"]
    ] == [
        (2, 1),
        (0, 1),
        (0, 0),
    ]
    second = await academy.client.get("/api/v1/courses?page_size=2&page=2")
    assert_lists_exactly(second.content, alone[2:])


async def test_a_missing_course_is_404_with_error(academy: Academy) -> None:
    for path in ("/api/v1/courses/999", f"/api/v1/courses/{2**40}"):
        response = await academy.client.get(path)
        assert response.status_code == 404
        assert response.json() == {"detail": "Course not found", "error": "Course not found"}


async def test_an_inactive_course_is_seen_only_by_who_may_change_it(academy: Academy) -> None:
    hidden = await academy.add_course("Hidden", is_active=False)
    assert (await academy.client.get(f"/api/v1/courses/{hidden}")).status_code == 404
    assert (
        await academy.client.get(f"/api/v1/courses/{hidden}", headers=academy.alice)
    ).status_code == 404
    for headers in (academy.ivy, academy.admin):
        response = await academy.client.get(f"/api/v1/courses/{hidden}", headers=headers)
        assert response.status_code == 200
    enrol = await academy.client.post(f"/api/v1/enroll/{hidden}", headers=academy.alice)
    assert enrol.status_code == 404


async def test_the_instructor_changes_and_deletes_their_course(academy: Academy) -> None:
    course_id = await academy.add_course()
    changed = await academy.client.patch(
        f"/api/v1/courses/{course_id}",
        json={"title": "Reading Music, Again", "price": 12.5, "is_active": False},
        headers=academy.ivy,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["title"], changed.json()["price"]) == ("Reading Music, Again", "12.50")
    same = await academy.client.patch(
        f"/api/v1/courses/{course_id}", json={"price": "12.50"}, headers=academy.ivy
    )
    assert same.status_code == 200
    deleted = await academy.client.delete(f"/api/v1/courses/{course_id}/", headers=academy.ivy)
    assert deleted.status_code == 204
    assert (await academy.client.get(f"/api/v1/courses/{course_id}")).status_code == 404
    events = await academy.outbox()
    assert [event["type"] for event in events] == [
        "academy.course.updated",
        "academy.course.deleted",
    ]
    assert sorted(events[0]["payload"]["changed"]) == ["is_active", "price", "title"]


async def test_deleting_a_course_takes_its_lessons_and_enrolments(academy: Academy) -> None:
    course_id = await academy.add_course()
    lesson = await academy.add_lesson(course_id, 1)
    await academy.add_enrollment(2, course_id)
    await academy.add_completion(2, course_id, lesson)
    deleted = await academy.client.delete(f"/api/v1/courses/{course_id}", headers=academy.admin)
    assert deleted.status_code == 204
    assert await academy.enrollments() == []
    assert await academy.completions() == []


async def test_lessons_crud_under_their_course(academy: Academy) -> None:
    course_id = await academy.add_course()
    created = await academy.client.post(
        f"/api/v1/courses/{course_id}/lessons", json=LESSON, headers=academy.ivy
    )
    assert created.status_code == 201, created.text
    lesson = created.json()
    assert lesson["course"] == course_id
    assert {key: lesson[key] for key in LESSON} == LESSON
    assert created.headers["location"] == f"/api/v1/courses/{course_id}/lessons/{lesson['id']}"
    draft = await academy.client.post(
        f"/api/v1/courses/{course_id}/lessons",
        json={"title": "Draft", "order": 2},
        headers=academy.ivy,
    )
    assert draft.status_code == 201
    assert draft.json()["is_published"] is False

    public = await academy.client.get(f"/api/v1/courses/{course_id}/lessons/")
    assert [item["id"] for item in public.json()["results"]] == [lesson["id"]]
    everything = await academy.client.get(
        f"/api/v1/courses/{course_id}/lessons?include_drafts=true", headers=academy.ivy
    )
    assert [item["order"] for item in everything.json()["results"]] == [1, 2]
    peek = await academy.client.get(
        f"/api/v1/courses/{course_id}/lessons?include_drafts=true", headers=academy.alice
    )
    assert peek.status_code == 403
    hidden = await academy.client.get(f"/api/v1/courses/{course_id}/lessons/{draft.json()['id']}")
    assert hidden.status_code == 404
    assert hidden.json()["error"] == "Lesson not found"
    one = await academy.client.get(f"/api/v1/courses/{course_id}/lessons/{lesson['id']}")
    assert one.json() == lesson
    course = await academy.client.get(f"/api/v1/courses/{course_id}")
    assert course.json()["lesson_count"] == 1

    moved = await academy.client.patch(
        f"/api/v1/courses/{course_id}/lessons/{lesson['id']}",
        json={"order": 3, "title": "Gain staging, revised"},
        headers=academy.ivy,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["order"] == 3
    removed = await academy.client.delete(
        f"/api/v1/courses/{course_id}/lessons/{lesson['id']}", headers=academy.ivy
    )
    assert removed.status_code == 204
    assert (
        await academy.client.get(f"/api/v1/courses/{course_id}/lessons/{lesson['id']}")
    ).status_code == 404
    assert await academy.event_types() == [
        "academy.lesson.created",
        "academy.lesson.created",
        "academy.lesson.updated",
        "academy.lesson.deleted",
    ]


async def test_a_lesson_order_is_unique_per_course(academy: Academy) -> None:
    course_id = await academy.add_course()
    other_course = await academy.add_course("Other")
    await academy.add_lesson(course_id, 1)
    second = await academy.add_lesson(course_id, 2)
    await academy.add_lesson(other_course, 1)
    before = await academy.snapshot()
    taken = await academy.client.post(
        f"/api/v1/courses/{course_id}/lessons", json=LESSON, headers=academy.ivy
    )
    assert taken.status_code == 409
    assert taken.json()["error"] == "A lesson with order 1 already exists in this course"
    moved = await academy.client.patch(
        f"/api/v1/courses/{course_id}/lessons/{second}", json={"order": 1}, headers=academy.ivy
    )
    assert moved.status_code == 409
    assert await academy.snapshot() == before
    elsewhere = await academy.client.post(
        f"/api/v1/courses/{other_course}/lessons", json={**LESSON, "order": 2}, headers=academy.ivy
    )
    assert elsewhere.status_code == 201


async def test_a_lesson_of_another_course_is_not_found(academy: Academy) -> None:
    course_id = await academy.add_course()
    other = await academy.add_course("Other")
    lesson = await academy.add_lesson(other, 1)
    response = await academy.client.get(f"/api/v1/courses/{course_id}/lessons/{lesson}")
    assert response.status_code == 404
    patch = await academy.client.patch(
        f"/api/v1/courses/{course_id}/lessons/{lesson}", json={"title": "x"}, headers=academy.ivy
    )
    assert patch.status_code == 404


async def test_lessons_of_a_missing_course_are_404(academy: Academy) -> None:
    response = await academy.client.get("/api/v1/courses/77/lessons")
    assert response.status_code == 404
