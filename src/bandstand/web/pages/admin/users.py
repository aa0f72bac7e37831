"""Console: users, searched and paged; a user's role, activation, and deletion."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query
from starlette.requests import Request
from starlette.responses import Response

from bandstand.platform.lean_routes import ServiceRouter
from bandstand.web.forms import form_values
from bandstand.web.pages.admin.common import PageNumber, SearchText, listing, refusal
from bandstand.web.visit import PageVisit, Visit

router = ServiceRouter(prefix="/users")
ROLES = ("user", "instructor", "admin")


@router.get("")
async def users_page(
    visit: PageVisit,
    search: SearchText = None,
    role: Annotated[Literal["user", "instructor", "admin", ""] | None, Query()] = None,
    page: PageNumber = 1,
) -> Response:
    visit.admin()
    users = await listing(visit, "/api/v1/users", page, {"search": search, "role": role})
    return visit.page(
        "admin/users.html", users=users, search=search or "", role=role or "", roles=ROLES
    )


async def _user_page(
    visit: Visit, user_id: int, *, error: str | None = None, status_code: int = 200
) -> Response:
    user = await visit.get(f"/api/v1/users/{user_id}")
    return visit.page(
        "admin/user.html", status_code=status_code, account=user, roles=ROLES, error=error
    )


@router.get("/{user_id}")
async def user_page(visit: PageVisit, user_id: int) -> Response:
    visit.admin()
    return await _user_page(visit, user_id)


async def _change(visit: Visit, user_id: int, changes: dict[str, object], done: str) -> Response:
    answer = await visit.call("PUT", f"/api/v1/users/{user_id}", json_body=changes)
    if answer.ok:
        return visit.redirect(f"/admin/users/{user_id}", done)
    if answer.status == 404:
        return await _user_page(visit, user_id)
    return await _user_page(visit, user_id, error=refusal(answer), status_code=400)


@router.post("/{user_id}/role")
async def change_role(visit: PageVisit, request: Request, user_id: int) -> Response:
    visit.admin()
    role = (await form_values(request)).get("role", "")
    if role not in ROLES:
        return await _user_page(
            visit, user_id, error="role: choose user, instructor or admin.", status_code=400
        )
    return await _change(visit, user_id, {"role": role}, f"The role is now {role}.")


@router.post("/{user_id}/active")
async def change_active(visit: PageVisit, request: Request, user_id: int) -> Response:
    visit.admin()
    active = (await form_values(request)).get("is_active") == "true"
    done = "The account is active again." if active else "The account is deactivated."
    return await _change(visit, user_id, {"is_active": active}, done)


@router.post("/{user_id}/delete")
async def delete_user(visit: PageVisit, user_id: int) -> Response:
    visit.admin()
    answer = await visit.call("DELETE", f"/api/v1/users/{user_id}")
    if answer.ok:
        return visit.redirect("/admin/users", "The user is deleted.")
    return await _user_page(visit, user_id, error=refusal(answer), status_code=400)
