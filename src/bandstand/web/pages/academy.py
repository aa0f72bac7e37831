"""Pages: the academy for learners (the catalogue, a course with its lessons, enrolling,
marking lessons done, and one's own courses with their progress)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import Query
from starlette.responses import Response

from bandstand.platform.lean_routes import ServiceRouter
from bandstand.web.pages.academy_common import (
    DIFFICULTIES,
    Progress,
    can_manage,
    lessons_of,
)
from bandstand.web.visit import PageVisit, Visit, page_error

router = ServiceRouter(include_in_schema=False)
CATALOGUE_PAGE = 12
SearchText = Annotated[str | None, Query(max_length=200)]
PageNumber = Annotated[int, Query(ge=1, le=100_000)]
Level = Annotated[str | None, Query(pattern=f"^({'|'.join(DIFFICULTIES)})?$")]
"""One of the levels, or empty (the form's "All levels")."""


@router.get("/courses")
async def catalogue(
    visit: PageVisit,
    difficulty: Level = None,
    search: SearchText = None,
    page: PageNumber = 1,
) -> Response:
    body = await visit.get(
        "/api/v1/courses",
        {
            "difficulty": difficulty or None,
            "search": search,
            "page": page,
            "page_size": CATALOGUE_PAGE,
        },
    )
    return visit.page(
        "academy/catalogue.html",
        courses=body["results"],
        count=body["count"],
        difficulty=difficulty or "",
        search=search or "",
        page=page,
        has_previous=bool(body.get("previous")),
        has_next=bool(body.get("next")),
        difficulties=DIFFICULTIES,
    )


@router.get("/courses/mine")
async def my_courses(visit: PageVisit) -> Response:
    visit.signed_in()
    progress, figures = await asyncio.gather(
        visit.get("/api/v1/progress"), visit.get("/api/v1/analytics")
    )
    items = [(item, Progress.of(item)) for item in progress["progress"]]
    return visit.page("academy/mine.html", items=items, figures=figures)


@router.get("/courses/{course_id}")
async def course_page(visit: PageVisit, course_id: int) -> Response:
    course, lessons, progress = await asyncio.gather(
        visit.get(f"/api/v1/courses/{course_id}"),
        lessons_of(visit, course_id),
        _learner_progress(visit, course_id),
    )
    return visit.page(
        "academy/course.html",
        course=course,
        lessons=lessons,
        progress=progress,
        done=progress.lesson_ids if progress is not None else frozenset(),
        manages=can_manage(course, visit),
        difficulties=DIFFICULTIES,
    )


@router.post("/courses/{course_id}/enrol")
async def enrol(visit: PageVisit, course_id: int) -> Response:
    visit.signed_in()
    answer = await visit.call("POST", f"/api/v1/enroll/{course_id}")
    if answer.ok:
        return visit.redirect(f"/courses/{course_id}", "You are enrolled. Enjoy the course!")
    if answer.status == 400:
        return visit.redirect(f"/courses/{course_id}", answer.detail(), "error")
    raise page_error(answer)


@router.post("/courses/{course_id}/withdraw")
async def withdraw(visit: PageVisit, course_id: int) -> Response:
    visit.signed_in()
    answer = await visit.call("DELETE", f"/api/v1/enroll/{course_id}")
    if answer.ok:
        return visit.redirect(
            f"/courses/{course_id}", "You have left the course; your progress in it is gone."
        )
    if answer.status == 404:
        return visit.redirect(f"/courses/{course_id}", "You were not enrolled.", "error")
    raise page_error(answer)


@router.post("/courses/{course_id}/lessons/{lesson_id}/done")
async def mark_done(visit: PageVisit, course_id: int, lesson_id: int) -> Response:
    visit.signed_in()
    answer = await visit.call("PUT", f"/api/v1/courses/{course_id}/lessons/{lesson_id}/completion")
    if answer.status == 403:
        return visit.redirect(
            f"/courses/{course_id}", "Enrol in the course to mark its lessons done.", "error"
        )
    if not answer.ok:
        raise page_error(answer)
    progress = Progress.of(answer.body["progress"])
    if visit.request.headers.get("hx-request") != "true":
        message = "Course completed. Well done!" if progress.completed else "Lesson done."
        return visit.redirect(f"/courses/{course_id}#lesson-{lesson_id}", message)
    lesson = await visit.get(f"/api/v1/courses/{course_id}/lessons/{lesson_id}")
    return visit.page(
        "academy/_lesson_done.html",
        course={"id": course_id},
        lesson=lesson,
        progress=progress,
        done={lesson_id},
    )


async def _learner_progress(visit: Visit, course_id: int) -> Progress | None:
    """The visitor's progress in the course, with the lessons they have done; None when they
    are not signed in or not enrolled."""
    if visit.user is None:
        return None
    answer = await visit.call("GET", f"/api/v1/progress/{course_id}")
    if answer.status == 404:
        return None
    if not answer.ok:
        raise page_error(answer)
    return Progress.of(answer.body["progress"][0])
