"""Console: a course's lessons, added, changed (published) and deleted."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from bandstand.platform.lean_routes import ServiceRouter
from bandstand.web.forms import form_values
from bandstand.web.pages.admin.common import field_errors, refusal
from bandstand.web.pages.admin.editing import Resource, body_from_form, form_from_item
from bandstand.web.pages.admin.resources import LESSON_FIELDS
from bandstand.web.visit import PageVisit, Visit

router = ServiceRouter(prefix="/courses/{course_id}/lessons")


def _lessons(course_id: int) -> Resource:
    return Resource(
        slug=f"courses/{course_id}/lessons",
        api=f"/api/v1/courses/{course_id}/lessons",
        singular="lesson",
        plural="Lessons",
        fields=LESSON_FIELDS,
        columns=(("title", "Title"),),
        update_method="PATCH",
    )


async def _page(
    visit: Visit,
    course_id: int,
    lesson: dict[str, Any] | None,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    course = await visit.get(f"/api/v1/courses/{course_id}")
    return visit.page(
        "admin/lesson.html",
        status_code=status_code,
        resource=_lessons(course_id),
        course=course,
        item=lesson,
        values=values,
        errors=errors,
    )


@router.get("/new")
async def new_lesson(visit: PageVisit, course_id: int) -> Response:
    visit.admin()
    return await _page(visit, course_id, None, {}, {})


@router.post("/new")
async def create_lesson(visit: PageVisit, request: Request, course_id: int) -> Response:
    visit.admin()
    resource = _lessons(course_id)
    body, shown, errors = body_from_form(resource, await form_values(request), creating=True)
    if not errors:
        answer = await visit.call("POST", resource.api, json_body=body)
        if answer.ok:
            return visit.redirect(f"/admin/courses/{course_id}#lessons", "The lesson is added.")
        errors = field_errors(answer)
    return await _page(visit, course_id, None, shown, errors, status_code=400)


@router.get("/{lesson_id}")
async def edit_lesson(visit: PageVisit, course_id: int, lesson_id: int) -> Response:
    visit.admin()
    resource = _lessons(course_id)
    lesson = await visit.get(f"{resource.api}/{lesson_id}")
    return await _page(visit, course_id, lesson, form_from_item(resource, lesson), {})


@router.post("/{lesson_id}")
async def update_lesson(
    visit: PageVisit, request: Request, course_id: int, lesson_id: int
) -> Response:
    visit.admin()
    resource = _lessons(course_id)
    lesson = await visit.get(f"{resource.api}/{lesson_id}")
    body, shown, errors = body_from_form(resource, await form_values(request), creating=False)
    if not errors:
        answer = await visit.call("PATCH", f"{resource.api}/{lesson_id}", json_body=body)
        if answer.ok:
            return visit.redirect(f"/admin/courses/{course_id}#lessons", "The lesson is saved.")
        errors = field_errors(answer)
    return await _page(visit, course_id, lesson, shown, errors, status_code=400)


@router.post("/{lesson_id}/delete")
async def delete_lesson(visit: PageVisit, course_id: int, lesson_id: int) -> Response:
    visit.admin()
    answer = await visit.call("DELETE", f"/api/v1/courses/{course_id}/lessons/{lesson_id}")
    if answer.ok or answer.status == 404:
        return visit.redirect(f"/admin/courses/{course_id}#lessons", "The lesson is deleted.")
    return visit.redirect(f"/admin/courses/{course_id}#lessons", refusal(answer), kind="error")
