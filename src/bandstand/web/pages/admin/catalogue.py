"""Console: the catalogue's lists, edit forms and deletions, one set of pages per kind of item
(songs, albums, pictures, concerts, movies, instruments, courses), through their APIs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from bandstand.platform.lean_routes import ServiceRouter
from bandstand.web.forms import form_values
from bandstand.web.pages.admin import extras
from bandstand.web.pages.admin.common import PageNumber, SearchText, field_errors, listing, refusal
from bandstand.web.pages.admin.editing import Resource, body_from_form, form_from_item
from bandstand.web.pages.admin.resources import CATALOGUE
from bandstand.web.visit import PageVisit, Visit

router = ServiceRouter()
Extra = Callable[[Visit, dict[str, Any]], Awaitable[dict[str, Any]]]
EXTRAS: dict[str, Extra] = {
    "albums": extras.album_tracks,
    "concerts": extras.concert_attendees,
    "courses": extras.course_lessons,
}


async def _form_page(
    visit: Visit,
    resource: Resource,
    *,
    item: dict[str, Any] | None,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    more = await EXTRAS[resource.slug](visit, item) if item and resource.slug in EXTRAS else {}
    return visit.page(
        "admin/item.html",
        status_code=status_code,
        resource=resource,
        item=item,
        values=values,
        errors=errors,
        extra=f"admin/extras/{resource.slug}.html" if more else None,
        **more,
    )


def _mount(resource: Resource) -> None:
    base = f"/admin/{resource.slug}"
    path = f"/{resource.slug}"

    async def list_page(
        visit: PageVisit, search: SearchText = None, page: PageNumber = 1
    ) -> Response:
        visit.admin()
        query = dict(resource.list_query)
        if resource.search:
            query[resource.search] = search
        items = await listing(visit, resource.api, page, query)
        return visit.page("admin/items.html", resource=resource, items=items, search=search or "")

    async def new_page(visit: PageVisit) -> Response:
        visit.admin()
        values: dict[str, Any] = {"is_active": True} if resource.slug == "courses" else {}
        return await _form_page(visit, resource, item=None, values=values, errors={})

    async def create(visit: PageVisit, request: Request) -> Response:
        visit.admin()
        body, shown, errors = body_from_form(resource, await form_values(request), creating=True)
        if not errors:
            answer = await visit.call("POST", resource.api, json_body=body)
            if answer.ok:
                created = answer.body
                return visit.redirect(
                    f"{base}/{created['id']}", f"The {resource.singular} is added."
                )
            errors = field_errors(answer)
        return await _form_page(
            visit, resource, item=None, values=shown, errors=errors, status_code=400
        )

    async def edit_page(visit: PageVisit, item_id: int) -> Response:
        visit.admin()
        item = await visit.get(f"{resource.api}/{item_id}")
        values = form_from_item(resource, item)
        return await _form_page(visit, resource, item=item, values=values, errors={})

    async def update(visit: PageVisit, request: Request, item_id: int) -> Response:
        visit.admin()
        item = await visit.get(f"{resource.api}/{item_id}")
        body, shown, errors = body_from_form(resource, await form_values(request), creating=False)
        if not errors:
            answer = await visit.call(
                resource.update_method, f"{resource.api}/{item_id}", json_body=body
            )
            if answer.ok:
                return visit.redirect(f"{base}/{item_id}", f"The {resource.singular} is saved.")
            errors = field_errors(answer)
        return await _form_page(
            visit, resource, item=item, values=shown, errors=errors, status_code=400
        )

    async def delete(visit: PageVisit, item_id: int) -> Response:
        visit.admin()
        answer = await visit.call("DELETE", f"{resource.api}/{item_id}")
        if answer.ok or answer.status == 404:
            return visit.redirect(base, f"The {resource.singular} is deleted.")
        return visit.redirect(f"{base}/{item_id}", refusal(answer), kind="error")

    router.add_api_route(path, list_page, methods=["GET"])
    router.add_api_route(f"{path}/new", new_page, methods=["GET"])
    router.add_api_route(f"{path}/new", create, methods=["POST"])
    router.add_api_route(f"{path}/{{item_id}}", edit_page, methods=["GET"])
    router.add_api_route(f"{path}/{{item_id}}", update, methods=["POST"])
    router.add_api_route(f"{path}/{{item_id}}/delete", delete, methods=["POST"])


for _resource in CATALOGUE:
    _mount(_resource)
