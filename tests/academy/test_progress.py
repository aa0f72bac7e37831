"""Enrolment, lesson completion and progress: each caller's own, true to the published lessons."""

from __future__ import annotations

from tests.academy.conftest import ALICE_ID, BOB_ID, IVY_ID, Academy


async def _course_with_lessons(
    academy: Academy, published: int, drafts: int = 0
) -> tuple[int, list[int]]:
    course_id = await academy.add_course()
    lessons = [await academy.add_lesson(course_id, order) for order in range(1, published + 1)]
    for order in range(published + 1, published + drafts + 1):
        lessons.append(await academy.add_lesson(course_id, order, is_published=False))
    return course_id, lessons


async def test_enrolling_answers_the_learning_platform_body(academy: Academy) -> None:
    await academy.add_member(IVY_ID, "ivy")
    course_id, _ = await _course_with_lessons(academy, 2)
    enrolled = await academy.client.post(f"/api/v1/enroll/{course_id}/", headers=academy.alice)
    assert enrolled.status_code == 201, enrolled.text
    body = enrolled.json()
    assert body["message"] == "Successfully enrolled in course"
    enrollment = body["enrollment"]
    assert enrollment["course"] == {"id": course_id, "title": "Reading Music", "instructor": "ivy"}
    assert (enrollment["user"], enrollment["is_completed"], enrollment["completed_at"]) == (
        ALICE_ID,
        False,
        None,
    )
    assert enrollment["progress_percentage"] == 0

    again = await academy.client.post(f"/api/v1/enroll/{course_id}", headers=academy.alice)
    assert again.status_code == 400
    assert again.json() == {
        "detail": "Already enrolled in this course",
        "error": "Already enrolled in this course",
    }
    missing = await academy.client.post("/api/v1/enroll/999", headers=academy.alice)
    assert missing.status_code == 404
    assert missing.json()["error"] == "Course not found"
    assert await academy.enrollments() == [(ALICE_ID, course_id, False)]
    created = await academy.outbox()
    assert [event["type"] for event in created] == ["academy.enrollment.created"]
    assert created[0]["payload"] == {
        "enrollment_id": enrollment["id"],
        "course_id": course_id,
        "user_id": ALICE_ID,
        "actor_id": ALICE_ID,
    }
    course = await academy.client.get(f"/api/v1/courses/{course_id}")
    assert course.json()["enrollment_count"] == 1


async def test_completing_every_published_lesson_completes_the_enrolment(academy: Academy) -> None:
    course_id, lessons = await _course_with_lessons(academy, 3, drafts=1)
    await academy.client.post(f"/api/v1/enroll/{course_id}", headers=academy.alice)
    url = f"/api/v1/courses/{course_id}/lessons/{{}}/completion"

    first = await academy.client.put(url.format(lessons[0]), headers=academy.alice)
    assert first.status_code == 200, first.text
    assert first.json()["lesson_id"] == lessons[0]
    assert first.json()["progress"]["progress_percentage"] == 33.33
    repeat = await academy.client.put(url.format(lessons[0]), headers=academy.alice)
    assert repeat.json()["completed_at"] == first.json()["completed_at"]
    draft = await academy.client.put(url.format(lessons[3]), headers=academy.alice)
    assert draft.status_code == 404
    await academy.client.put(url.format(lessons[1]), headers=academy.alice)
    last = await academy.client.put(url.format(lessons[2]), headers=academy.alice)
    progress = last.json()["progress"]
    assert progress["progress_percentage"] == 100
    assert progress["is_completed"] is True
    assert progress["completed_at"] is not None
    assert (progress["completed_lessons"], progress["total_lessons"]) == (3, 3)

    mine = await academy.client.get(f"/api/v1/progress/{course_id}/", headers=academy.alice)
    assert mine.json()["progress"] == [progress]
    types = await academy.event_types()
    assert types.count("academy.lesson.completed") == 3
    completed = [e for e in await academy.outbox() if e["type"] == "academy.enrollment.completed"]
    assert len(completed) == 1
    assert completed[0]["payload"]["user_id"] == ALICE_ID
    assert completed[0]["payload"]["completed_at"].endswith("Z")


async def test_progress_lists_the_published_lessons_done(academy: Academy) -> None:
    course_id, lessons = await _course_with_lessons(academy, 4, drafts=1)
    other_id, others = await _course_with_lessons(academy, 2)
    url = f"/api/v1/courses/{course_id}/lessons/{{}}/completion"
    for learner in (academy.alice, academy.bob):
        await academy.client.post(f"/api/v1/enroll/{course_id}", headers=learner)
    await academy.client.post(f"/api/v1/enroll/{other_id}", headers=academy.alice)
    # Out of order: the list comes back ascending.
    for lesson in (lessons[2], lessons[0]):
        done = await academy.client.put(url.format(lesson), headers=academy.alice)
        assert done.status_code == 200, done.text
    assert done.json()["progress"]["completed_lesson_ids"] == [lessons[0], lessons[2]]
    await academy.client.put(
        f"/api/v1/courses/{other_id}/lessons/{others[1]}/completion", headers=academy.alice
    )
    # Bob's completions are his own; a draft lesson's completion (kept from when it was
    # published) is not listed while the lesson is unpublished.
    await academy.client.put(url.format(lessons[1]), headers=academy.bob)
    await academy.add_completion(ALICE_ID, course_id, lessons[4])

    mine = await academy.client.get("/api/v1/progress", headers=academy.alice)
    listed = {item["course"]["id"]: item for item in mine.json()["progress"]}
    assert listed[course_id]["completed_lesson_ids"] == [lessons[0], lessons[2]]
    assert listed[course_id]["completed_lessons"] == 2
    assert listed[other_id]["completed_lesson_ids"] == [others[1]]
    bobs = await academy.client.get(f"/api/v1/progress/{course_id}", headers=academy.bob)
    assert bobs.json()["progress"][0]["completed_lesson_ids"] == [lessons[1]]

    hidden = await academy.client.patch(
        f"/api/v1/courses/{course_id}/lessons/{lessons[2]}",
        json={"is_published": False},
        headers=academy.ivy,
    )
    assert hidden.status_code == 200
    one = await academy.client.get(f"/api/v1/progress/{course_id}", headers=academy.alice)
    assert one.json()["progress"][0]["completed_lesson_ids"] == [lessons[0]]
    shown = await academy.client.patch(
        f"/api/v1/courses/{course_id}/lessons/{lessons[2]}",
        json={"is_published": True},
        headers=academy.ivy,
    )
    assert shown.status_code == 200
    one = await academy.client.get(f"/api/v1/progress/{course_id}", headers=academy.alice)
    assert one.json()["progress"][0]["completed_lesson_ids"] == [lessons[0], lessons[2]]

    # Withdrawing erases them: enrolled again, the learner starts from none.
    await academy.client.delete(f"/api/v1/enroll/{course_id}", headers=academy.alice)
    again = await academy.client.post(f"/api/v1/enroll/{course_id}", headers=academy.alice)
    assert again.status_code == 201
    fresh = await academy.client.get(f"/api/v1/progress/{course_id}", headers=academy.alice)
    assert fresh.json()["progress"][0]["completed_lesson_ids"] == []
    other = await academy.client.get(f"/api/v1/progress/{other_id}", headers=academy.alice)
    assert other.json()["progress"][0]["completed_lesson_ids"] == [others[1]]
    bobs = await academy.client.get(f"/api/v1/progress/{course_id}", headers=academy.bob)
    assert bobs.json()["progress"][0]["completed_lesson_ids"] == [lessons[1]]


async def test_completing_needs_an_enrolment(academy: Academy) -> None:
    course_id, lessons = await _course_with_lessons(academy, 1)
    url = f"/api/v1/courses/{course_id}/lessons/{lessons[0]}/completion"
    refused = await academy.client.put(url, headers=academy.alice)
    assert refused.status_code == 403
    assert refused.json()["error"] == "Enrol in this course to complete its lessons"
    assert (await academy.client.put(url)).status_code == 401
    assert await academy.completions() == []
    missing = await academy.client.put(
        "/api/v1/courses/999/lessons/1/completion", headers=academy.alice
    )
    assert missing.status_code == 404


async def test_completing_in_a_hidden_course_answers_404_as_if_missing(academy: Academy) -> None:
    hidden = await academy.add_course("Hidden", is_active=False)
    lesson = await academy.add_lesson(hidden, 1)
    missing = await academy.client.put(
        "/api/v1/courses/999/lessons/1/completion", headers=academy.alice
    )
    url = f"/api/v1/courses/{hidden}/lessons/{lesson}/completion"
    # Enrolled or not, a learner cannot tell a hidden course from one that does not exist.
    refused = await academy.client.put(url, headers=academy.alice)
    assert (refused.status_code, refused.json()) == (missing.status_code, missing.json())
    await academy.add_enrollment(BOB_ID, hidden)
    enrolled = await academy.client.put(url, headers=academy.bob)
    assert (enrolled.status_code, enrolled.json()) == (404, missing.json())
    assert missing.json()["error"] == "Course not found"
    assert await academy.completions() == []


async def test_publishing_a_lesson_lowers_progress_and_reopens_completion(academy: Academy) -> None:
    course_id, lessons = await _course_with_lessons(academy, 2)
    await academy.client.post(f"/api/v1/enroll/{course_id}", headers=academy.alice)
    for lesson in lessons:
        await academy.client.put(
            f"/api/v1/courses/{course_id}/lessons/{lesson}/completion", headers=academy.alice
        )
    new = await academy.client.post(
        f"/api/v1/courses/{course_id}/lessons",
        json={"title": "Encore", "order": 3, "is_published": True},
        headers=academy.ivy,
    )
    assert new.status_code == 201
    (item,) = (await academy.client.get("/api/v1/progress", headers=academy.alice)).json()[
        "progress"
    ]
    assert (item["progress_percentage"], item["is_completed"], item["completed_at"]) == (
        66.67,
        False,
        None,
    )
    # Unpublishing it again: every published lesson is done, the enrolment completes again.
    hidden = await academy.client.patch(
        f"/api/v1/courses/{course_id}/lessons/{new.json()['id']}",
        json={"is_published": False},
        headers=academy.ivy,
    )
    assert hidden.status_code == 200
    (item,) = (await academy.client.get("/api/v1/progress", headers=academy.alice)).json()[
        "progress"
    ]
    assert (item["progress_percentage"], item["is_completed"]) == (100, True)
    assert (await academy.event_types()).count("academy.enrollment.completed") == 2


async def test_unenrolling_withdraws_the_progress(academy: Academy) -> None:
    course_id, lessons = await _course_with_lessons(academy, 2)
    await academy.client.post(f"/api/v1/enroll/{course_id}", headers=academy.alice)
    await academy.client.post(f"/api/v1/enroll/{course_id}", headers=academy.bob)
    await academy.client.put(
        f"/api/v1/courses/{course_id}/lessons/{lessons[0]}/completion", headers=academy.alice
    )
    left = await academy.client.delete(f"/api/v1/enroll/{course_id}/", headers=academy.alice)
    assert left.status_code == 204
    assert await academy.enrollments() == [(BOB_ID, course_id, False)]
    assert await academy.completions() == []
    again = await academy.client.delete(f"/api/v1/enroll/{course_id}", headers=academy.alice)
    assert again.status_code == 404
    assert again.json()["error"] == "Not enrolled in this course"
    deleted = [e for e in await academy.outbox() if e["type"] == "academy.enrollment.deleted"]
    assert [e["payload"] for e in deleted] == [
        {"course_id": course_id, "user_id": ALICE_ID, "actor_id": ALICE_ID}
    ]
    gone = await academy.client.get(f"/api/v1/progress/{course_id}", headers=academy.alice)
    assert gone.status_code == 404


async def test_a_user_sees_only_their_own_progress_and_analytics(academy: Academy) -> None:
    course_id, lessons = await _course_with_lessons(academy, 2)
    other_id, _ = await _course_with_lessons(academy, 1)
    await academy.add_enrollment(ALICE_ID, course_id)
    await academy.add_completion(ALICE_ID, course_id, lessons[0])
    await academy.add_enrollment(BOB_ID, other_id)

    bob = await academy.client.get("/api/v1/progress", headers=academy.bob)
    assert [item["course"]["id"] for item in bob.json()["progress"]] == [other_id]
    # Asking for Alice's course, or naming her, shows Bob nothing of hers.
    peek = await academy.client.get(f"/api/v1/progress/{course_id}", headers=academy.bob)
    assert peek.status_code == 404
    named = await academy.client.get(
        f"/api/v1/progress?user_id={ALICE_ID}&user={ALICE_ID}", headers=academy.bob
    )
    assert named.json() == bob.json()
    analytics = await academy.client.get(
        f"/api/v1/analytics?user_id={ALICE_ID}", headers=academy.bob
    )
    assert analytics.json()["total_enrollments"] == 1
    assert analytics.json()["average_progress"] == 0
    alice = await academy.client.get("/api/v1/analytics", headers=academy.alice)
    assert alice.json()["average_progress"] == 50
    for path in ("/api/v1/progress", f"/api/v1/progress/{course_id}", "/api/v1/analytics"):
        anonymous = await academy.client.get(path)
        assert anonymous.status_code == 401
        assert anonymous.headers["www-authenticate"] == "Bearer"
        assert anonymous.json()["error"] == "Not authenticated"
