"""The popular courses come from the platform cache (memory, or a real Redis server) and the
cached ranking is dropped when an enrolment changes it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bandstand.platform.settings import Settings
from tests.academy.conftest import ALICE_ID, BOB_ID, Academy, running_academy
from tests.support.tokens import TokenFactory


async def _ranking(academy: Academy) -> list[tuple[int, int]]:
    response = await academy.client.get("/api/v1/courses/popular/")
    assert response.status_code == 200, response.text
    return [(item["id"], item["enrollment_count"]) for item in response.json()["results"]]


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def cache_url(request: pytest.FixtureRequest) -> str:
    if request.param == "memory":
        return "memory://"
    return str(request.getfixturevalue("redis_url"))


async def test_the_ranking_is_cached_and_dropped_on_enrolment_changes(
    make_settings: Callable[..., Settings],
    academy_database_url: str,
    tokens: TokenFactory,
    cache_url: str,
) -> None:
    settings = make_settings(databases={"academy": academy_database_url}, cache_url=cache_url)
    async with running_academy(settings, tokens) as academy:
        first = await academy.add_course("First")
        second = await academy.add_course("Second")
        third = await academy.add_course("Third")
        hidden = await academy.add_course("Hidden", is_active=False)
        for user in (10, 11):
            await academy.add_enrollment(user, first)
        await academy.add_enrollment(10, second)
        for user in (10, 11, 12):
            await academy.add_enrollment(user, hidden)
        assert await _ranking(academy) == [(first, 2), (second, 1), (third, 0)]

        # Rows written behind the service's back: the cached ranking is still served.
        for user in (20, 21, 22):
            await academy.add_enrollment(user, third)
        assert await _ranking(academy) == [(first, 2), (second, 1), (third, 0)]

        # An enrolment through the API drops it: the next read sees every row.
        enrolled = await academy.client.post(f"/api/v1/enroll/{second}", headers=academy.alice)
        assert enrolled.status_code == 201
        assert await _ranking(academy) == [(third, 3), (first, 2), (second, 2)]

        await academy.add_enrollment(30, first)
        await academy.add_enrollment(31, first)
        assert await _ranking(academy) == [(third, 3), (first, 2), (second, 2)]
        left = await academy.client.delete(f"/api/v1/enroll/{second}", headers=academy.alice)
        assert left.status_code == 204
        assert await _ranking(academy) == [(first, 4), (third, 3), (second, 1)]

        # A refused enrolment changes nothing and keeps the cached ranking.
        await academy.add_enrollment(ALICE_ID, third)
        refused = await academy.client.post(f"/api/v1/enroll/{third}", headers=academy.alice)
        assert refused.status_code == 400
        await academy.add_enrollment(BOB_ID, third)
        assert await _ranking(academy) == [(first, 4), (third, 3), (second, 1)]


async def test_without_a_cache_every_read_is_fresh(
    academy_settings: Settings, tokens: TokenFactory
) -> None:
    async with running_academy(academy_settings, tokens, popular_cache_seconds=0) as academy:
        course = await academy.add_course()
        assert await _ranking(academy) == [(course, 0)]
        await academy.add_enrollment(ALICE_ID, course)
        assert await _ranking(academy) == [(course, 1)]


async def test_the_ranking_is_paginated(academy: Academy) -> None:
    courses = [await academy.add_course(f"Course {n:02}") for n in range(25)]
    page = (await academy.client.get("/api/v1/courses/popular")).json()
    assert page["count"] == 25
    assert [item["id"] for item in page["results"]] == courses[:20]
    assert page["previous"] is None
    second = (await academy.client.get(page["next"])).json()
    assert [item["id"] for item in second["results"]] == courses[20:]
    past = await academy.client.get("/api/v1/courses/popular?page=3")
    assert past.status_code == 404


async def test_course_and_lesson_changes_drop_the_ranking(academy: Academy) -> None:
    course = await academy.add_course()
    (item,) = (await academy.client.get("/api/v1/courses/popular")).json()["results"]
    assert (item["title"], item["lesson_count"]) == ("Reading Music", 0)
    await academy.client.patch(
        f"/api/v1/courses/{course}", json={"title": "Renamed"}, headers=academy.ivy
    )
    await academy.client.post(
        f"/api/v1/courses/{course}/lessons",
        json={"title": "One", "order": 1, "is_published": True},
        headers=academy.ivy,
    )
    (item,) = (await academy.client.get("/api/v1/courses/popular")).json()["results"]
    assert (item["title"], item["lesson_count"]) == ("Renamed", 1)


async def test_anonymous_course_lists_may_come_from_the_response_cache(
    make_settings: Callable[..., Settings],
    academy_database_url: str,
    tokens: TokenFactory,
) -> None:
    settings = make_settings(databases={"academy": academy_database_url}, public_cache_seconds=60)
    async with running_academy(settings, tokens) as academy:
        first = await academy.client.get("/api/v1/courses")
        cached = await academy.client.get("/api/v1/courses/")
        assert (first.headers["x-cache"], cached.headers["x-cache"]) == ("MISS", "HIT")
        assert cached.json()["count"] == 0

        course = await academy.add_course()
        after_write = await academy.client.get("/api/v1/courses")
        assert after_write.headers["x-cache"] == "MISS"
        assert after_write.json()["count"] == 1
        signed_in = await academy.client.get("/api/v1/courses", headers=academy.alice)
        assert "x-cache" not in signed_in.headers
        assert [item["id"] for item in signed_in.json()["results"]] == [course]
