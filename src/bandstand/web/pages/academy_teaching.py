"""Pages: teaching in the academy (instructors and admins): one's courses, creating and
changing a course, writing, ordering and publishing its lessons, and its figures as charts."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any

from fastapi import Query
from starlette.requests import Request
from starlette.responses import Response

from bandstand.platform.lean_routes import ServiceRouter
from bandstand.web.api import ApiResponse
from bandstand.web.charts import bar_chart, line_chart, percent
from bandstand.web.forms import form_values
from bandstand.web.pages.academy_common import (
    DIFFICULTIES,
    lessons_of,
    read_all,
    whole_numbers,
)
from bandstand.web.visit import PageVisit, Visit, page_error

router = ServiceRouter(prefix="/teaching", include_in_schema=False)
DAY_CHOICES = (7, 30, 90, 365)
Days = Annotated[int, Query(ge=1, le=365)]


@router.get("")
async def teaching(visit: PageVisit) -> Response:
    user = visit.instructor()
    courses = await read_all(visit, "/api/v1/courses")
    if not user.is_admin:
        courses = [course for course in courses if course["instructor_id"] == user.user_id]
    return visit.page("academy/teaching.html", courses=courses, difficulties=DIFFICULTIES)


@router.get("/courses/new")
async def new_course_page(visit: PageVisit) -> Response:
    visit.instructor()
    return _course_form(visit, {"difficulty_level": "BEGINNER", "is_active": True}, {})


@router.post("/courses/new")
async def create_course(visit: PageVisit, request: Request) -> Response:
    visit.instructor()
    values = await form_values(request)
    body, errors = _course_body(values)
    if not errors:
        answer = await visit.call("POST", "/api/v1/courses", json_body=body)
        if answer.ok:
            course_id = answer.body["id"]
            return visit.redirect(
                f"/teaching/courses/{course_id}", "Course created. Now add its lessons."
            )
        errors = _refusal(answer, body)
    return _course_form(visit, {**values, "is_active": "is_active" in values}, errors, 400)


@router.get("/courses/{course_id}")
async def course_editor(visit: PageVisit, course_id: int) -> Response:
    visit.instructor()
    course, lessons = await asyncio.gather(
        visit.get(f"/api/v1/courses/{course_id}"), lessons_of(visit, course_id, drafts=True)
    )
    return _editor(visit, course, lessons)


@router.post("/courses/{course_id}")
async def update_course(visit: PageVisit, request: Request, course_id: int) -> Response:
    visit.instructor()
    values = await form_values(request)
    body, errors = _course_body(values)
    if not errors:
        answer = await visit.call("PATCH", f"/api/v1/courses/{course_id}", json_body=body)
        if answer.ok:
            return visit.redirect(f"/teaching/courses/{course_id}", "Course saved.")
        errors = _refusal(answer, body)
    course, lessons = await asyncio.gather(
        visit.get(f"/api/v1/courses/{course_id}"), lessons_of(visit, course_id, drafts=True)
    )
    course_values = {**course, **values, "is_active": "is_active" in values}
    return _editor(visit, course_values, lessons, course_errors=errors, status_code=400)


@router.post("/courses/{course_id}/delete")
async def delete_course(visit: PageVisit, course_id: int) -> Response:
    visit.instructor()
    answer = await visit.call("DELETE", f"/api/v1/courses/{course_id}")
    if not answer.ok:
        raise page_error(answer)
    return visit.redirect("/teaching", "Course deleted.")


@router.post("/courses/{course_id}/lessons")
async def add_lesson(visit: PageVisit, request: Request, course_id: int) -> Response:
    visit.instructor()
    values = await form_values(request)
    body, errors = _lesson_body(values)
    if "order" not in body and "order" not in errors:
        errors["order"] = "Enter the lesson's position in the course (1, 2, 3…)."
    if not errors:
        answer = await visit.call("POST", f"/api/v1/courses/{course_id}/lessons", json_body=body)
        if answer.ok:
            state = "published" if answer.body["is_published"] else "saved as a draft"
            return visit.redirect(
                f"/teaching/courses/{course_id}#lesson-{answer.body['id']}",
                f"Lesson “{answer.body['title']}” {state}.",
            )
        errors = _refusal(answer, body)
    course, lessons = await asyncio.gather(
        visit.get(f"/api/v1/courses/{course_id}"), lessons_of(visit, course_id, drafts=True)
    )
    new_lesson = {**values, "is_published": "is_published" in values}
    return _editor(
        visit, course, lessons, new_lesson=new_lesson, lesson_errors=errors, status_code=400
    )


@router.get("/courses/{course_id}/lessons/{lesson_id}")
async def lesson_editor(visit: PageVisit, course_id: int, lesson_id: int) -> Response:
    visit.instructor()
    course, lesson = await asyncio.gather(
        visit.get(f"/api/v1/courses/{course_id}"),
        visit.get(f"/api/v1/courses/{course_id}/lessons/{lesson_id}"),
    )
    return visit.page("academy/lesson_edit.html", course=course, lesson=lesson, errors={})


@router.post("/courses/{course_id}/lessons/{lesson_id}")
async def update_lesson(
    visit: PageVisit, request: Request, course_id: int, lesson_id: int
) -> Response:
    visit.instructor()
    values = await form_values(request)
    body, errors = _lesson_body(values)
    if not errors:
        answer = await _patch_lesson(visit, course_id, lesson_id, body)
        if answer.ok:
            return visit.redirect(
                f"/teaching/courses/{course_id}#lesson-{lesson_id}", "Lesson saved."
            )
        errors = _refusal(answer, body)
    course, lesson = await asyncio.gather(
        visit.get(f"/api/v1/courses/{course_id}"),
        visit.get(f"/api/v1/courses/{course_id}/lessons/{lesson_id}"),
    )
    lesson = {**lesson, **values, "is_published": "is_published" in values}
    return visit.page(
        "academy/lesson_edit.html", status_code=400, course=course, lesson=lesson, errors=errors
    )


@router.post("/courses/{course_id}/lessons/{lesson_id}/publish")
async def publish_lesson(visit: PageVisit, course_id: int, lesson_id: int) -> Response:
    return await _set_published(visit, course_id, lesson_id, published=True)


@router.post("/courses/{course_id}/lessons/{lesson_id}/unpublish")
async def unpublish_lesson(visit: PageVisit, course_id: int, lesson_id: int) -> Response:
    return await _set_published(visit, course_id, lesson_id, published=False)


@router.post("/courses/{course_id}/lessons/{lesson_id}/delete")
async def delete_lesson(visit: PageVisit, course_id: int, lesson_id: int) -> Response:
    visit.instructor()
    answer = await visit.call("DELETE", f"/api/v1/courses/{course_id}/lessons/{lesson_id}")
    if not answer.ok:
        raise page_error(answer)
    return visit.redirect(f"/teaching/courses/{course_id}", "Lesson deleted.")


@router.get("/courses/{course_id}/analytics")
async def analytics(visit: PageVisit, course_id: int, days: Days = 30) -> Response:
    visit.instructor()
    figures = await visit.get(f"/api/v1/courses/{course_id}/analytics", {"days": days})
    per_day = [
        (date.fromisoformat(day["date"]).strftime("%d %b"), float(day["count"]))
        for day in figures["enrollments_over_time"]
    ]
    funnel = [(f"{lesson['order']}. {lesson['title']}", lesson) for lesson in figures["lessons"]]
    charts = {
        "enrolments": line_chart(
            per_day,
            title=f"Enrolments per day, last {days} days",
            value_heading="Enrolments",
            chart_id="chart-enrolments",
        ),
        "completion": bar_chart(
            [(label, float(lesson["completion_rate"])) for label, lesson in funnel],
            title="Learners who completed each lesson",
            label_heading="Lesson",
            value_heading="Completed by",
            value_format=percent,
            max_value=100,
            chart_id="chart-completion",
        ),
        "drop_off": bar_chart(
            [(label, float(lesson["drop_off"])) for label, lesson in funnel],
            title="Drop-off at each lesson (percentage points since the one before)",
            label_heading="Lesson",
            value_heading="Drop-off",
            value_format=percent,
            chart_id="chart-drop-off",
        ),
    }
    return visit.page(
        "academy/analytics.html",
        figures=figures,
        charts=charts,
        days=days,
        day_choices=sorted({*DAY_CHOICES, days}),
    )


async def _set_published(
    visit: Visit, course_id: int, lesson_id: int, *, published: bool
) -> Response:
    visit.instructor()
    answer = await _patch_lesson(visit, course_id, lesson_id, {"is_published": published})
    if not answer.ok:
        raise page_error(answer)
    title = answer.body["title"]
    message = f"“{title}” is published." if published else f"“{title}” is a draft again."
    return visit.redirect(f"/teaching/courses/{course_id}#lesson-{lesson_id}", message)


async def _patch_lesson(
    visit: Visit, course_id: int, lesson_id: int, body: dict[str, Any]
) -> ApiResponse:
    return await visit.call(
        "PATCH", f"/api/v1/courses/{course_id}/lessons/{lesson_id}", json_body=body
    )


def _course_body(values: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    body: dict[str, Any] = {
        "title": values.get("title", ""),
        "is_active": "is_active" in values,
        **{name: values[name] for name in ("description", "difficulty_level") if name in values},
        **whole_numbers(values, ("duration_hours",), errors),
    }
    if values.get("price"):
        body["price"] = values["price"]
    return body, errors


def _lesson_body(values: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    body: dict[str, Any] = {
        "title": values.get("title", ""),
        "content": values.get("content", ""),
        "video_url": values.get("video_url", ""),
        "is_published": "is_published" in values,
        **whole_numbers(values, ("duration_minutes", "order"), errors),
    }
    return body, errors


def _refusal(answer: ApiResponse, body: dict[str, Any]) -> dict[str, str]:
    """The API's refusal by field; a taken position is the order field's."""
    if answer.status in (401, 403, 404) or answer.status >= 500:
        raise page_error(answer)
    if answer.status == 409 and "order" in answer.detail():
        return {"order": answer.detail()}
    errors = answer.field_errors()
    if "title" in errors and not body.get("title"):
        errors["title"] = "Enter a title."
    return errors


def _course_form(
    visit: Visit, values: dict[str, Any], errors: dict[str, str], status_code: int = 200
) -> Response:
    return visit.page(
        "academy/course_new.html",
        status_code=status_code,
        values=values,
        errors=errors,
        difficulties=DIFFICULTIES,
    )


def _editor(
    visit: Visit,
    course: dict[str, Any],
    lessons: list[dict[str, Any]],
    *,
    course_errors: dict[str, str] | None = None,
    new_lesson: dict[str, Any] | None = None,
    lesson_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    next_order = max((lesson["order"] for lesson in lessons), default=0) + 1
    return visit.page(
        "academy/course_edit.html",
        status_code=status_code,
        course=course,
        lessons=lessons,
        course_errors=course_errors or {},
        new_lesson=new_lesson or {"order": next_order, "duration_minutes": 0},
        lesson_errors=lesson_errors or {},
        difficulties=DIFFICULTIES,
    )
