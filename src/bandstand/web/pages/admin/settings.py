"""Console: the platform's settings, listed, added, changed and deleted."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from bandstand.platform.lean_routes import ServiceRouter
from bandstand.web.forms import form_values
from bandstand.web.pages.admin.common import PageNumber, field_errors, listing, refusal
from bandstand.web.visit import PageVisit, Visit

router = ServiceRouter(prefix="/settings")


def _body(values: dict[str, str], form: dict[str, str]) -> dict[str, Any]:
    return {
        "value": values.get("value", ""),
        "description": values.get("description", ""),
        "is_public": "is_public" in form,
    }


async def _list_page(
    visit: Visit,
    page: int,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    settings = await listing(visit, "/api/v1/settings", page)
    return visit.page(
        "admin/settings.html",
        status_code=status_code,
        settings=settings,
        values=values or {},
        errors=errors or {},
    )


@router.get("")
async def settings_page(visit: PageVisit, page: PageNumber = 1) -> Response:
    visit.admin()
    return await _list_page(visit, page)


@router.post("")
async def add_setting(visit: PageVisit, request: Request) -> Response:
    visit.admin()
    form = await form_values(request)
    body = {"key": form.get("key", ""), **_body(form, form)}
    answer = await visit.call("POST", "/api/v1/settings", json_body=body)
    if answer.ok:
        return visit.redirect(f"/admin/settings/{body['key']}", "The setting is added.")
    return await _list_page(visit, 1, values=body, errors=field_errors(answer), status_code=400)


async def _setting_page(
    visit: Visit,
    key: str,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    setting = await visit.get(f"/api/v1/settings/{key}")
    return visit.page(
        "admin/setting.html",
        status_code=status_code,
        setting=setting,
        values=values or setting,
        errors=errors or {},
    )


@router.get("/{key}")
async def setting_page(visit: PageVisit, key: str) -> Response:
    visit.admin()
    return await _setting_page(visit, key)


@router.post("/{key}")
async def change_setting(visit: PageVisit, request: Request, key: str) -> Response:
    visit.admin()
    form = await form_values(request)
    body = _body(form, form)
    answer = await visit.call("PUT", f"/api/v1/settings/{key}", json_body=body)
    if answer.ok:
        return visit.redirect(f"/admin/settings/{key}", "The setting is saved.")
    return await _setting_page(
        visit, key, values=body, errors=field_errors(answer), status_code=400
    )


@router.post("/{key}/delete")
async def delete_setting(visit: PageVisit, key: str) -> Response:
    visit.admin()
    answer = await visit.call("DELETE", f"/api/v1/settings/{key}")
    if answer.ok or answer.status == 404:
        return visit.redirect("/admin/settings", f"The setting {key} is deleted.")
    return visit.redirect(f"/admin/settings/{key}", refusal(answer), kind="error")
