"""Analytics: the caller's own figures, and an instructor's figures of a course they teach."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.academy.conftest import Academy


async def test_course_analytics_count_enrolments_completion_and_drop_off(academy: Academy) -> None:
    course = await academy.add_course()
    lessons = [await academy.add_lesson(course, order) for order in (1, 2, 3, 4)]
    await academy.add_lesson(course, 5, is_published=False)
    today = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    # Four learners: one enrolled 2 days ago, three today; one a year ago is out of the window.
    learners = {10: today - timedelta(days=2), 11: today, 12: today, 13: today}
    for user, when in learners.items():
        await academy.add_enrollment(user, course, enrolled_at=when)
    await academy.add_enrollment(14, course, enrolled_at=today - timedelta(days=400))
    done = {10: lessons, 11: lessons[:2], 12: lessons[:1], 13: [lessons[2]], 14: []}
    for user, finished in done.items():
        for lesson in finished:
            await academy.add_completion(user, course, lesson)
    # Only an enrolled learner's completion counts; learner 10 completes through the API.
    await academy.add_completion(99, course, lessons[0])
    learner = academy.tokens.headers(user_id=10)
    last = await academy.client.put(
        f"/api/v1/courses/{course}/lessons/{lessons[3]}/completion", headers=learner
    )
    assert last.json()["progress"]["is_completed"] is True

    response = await academy.client.get(
        f"/api/v1/courses/{course}/analytics/?days=7", headers=academy.ivy
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["total_enrollments"], body["completed_enrollments"]) == (5, 1)
    assert body["completion_rate"] == 20
    # Progress: 100, 50, 25, 25, 0 → 40.
    assert body["average_progress"] == 40
    days = body["enrollments_over_time"]
    assert len(days) == 7
    assert days[-1] == {"date": today.date().isoformat(), "count": 3}
    assert days[-3] == {"date": (today - timedelta(days=2)).date().isoformat(), "count": 1}
    assert sum(day["count"] for day in days) == 4
    funnel = [
        (lesson["order"], lesson["completions"], lesson["drop_off"]) for lesson in body["lessons"]
    ]
    # Completions of enrolled learners: lesson 1 by 10, 11, 12; 2 by 10, 11; 3 by 10, 13; 4 by 10.
    assert funnel == [(1, 3, 40.0), (2, 2, 20.0), (3, 2, 0.0), (4, 1, 20.0)]


async def test_an_empty_course_has_zero_figures(academy: Academy) -> None:
    course = await academy.add_course()
    body = (
        await academy.client.get(f"/api/v1/courses/{course}/analytics", headers=academy.admin)
    ).json()
    assert (body["total_enrollments"], body["completion_rate"], body["average_progress"]) == (
        0,
        0,
        0,
    )
    assert len(body["enrollments_over_time"]) == 30
    assert body["lessons"] == []


async def test_my_analytics_sum_up_my_enrolments(academy: Academy) -> None:
    first = await academy.add_course("First")
    second = await academy.add_course("Second")
    lesson = await academy.add_lesson(first, 1)
    await academy.add_lesson(second, 1)
    for course in (first, second):
        await academy.client.post(f"/api/v1/enroll/{course}", headers=academy.alice)
    await academy.client.post(f"/api/v1/enroll/{first}", headers=academy.bob)
    await academy.client.put(
        f"/api/v1/courses/{first}/lessons/{lesson}/completion", headers=academy.alice
    )
    body = (await academy.client.get("/api/v1/analytics/", headers=academy.alice)).json()
    assert (body["total_enrollments"], body["completed_courses"]) == (2, 1)
    assert (body["completion_rate"], body["average_progress"]) == (50, 50)
    kinds = [(entry["type"], entry["course_id"]) for entry in body["recent_activity"]]
    assert sorted(kinds) == sorted(
        [
            ("enrolled", first),
            ("enrolled", second),
            ("lesson_completed", first),
            ("course_completed", first),
        ]
    )
    moments = [entry["at"] for entry in body["recent_activity"]]
    assert moments == sorted(moments, reverse=True)
    assert body["timestamp"]
    nothing = (await academy.client.get("/api/v1/analytics", headers=academy.ivy)).json()
    assert (
        nothing["total_enrollments"],
        nothing["completion_rate"],
        nothing["recent_activity"],
    ) == (
        0,
        0,
        [],
    )
