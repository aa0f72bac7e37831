"""Console: orders, billing's dead letters (re-driven or deleted), the deep health check."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import Query
from starlette.requests import Request
from starlette.responses import Response

from bandstand.platform.lean_routes import ServiceRouter
from bandstand.web.forms import form_values
from bandstand.web.pages.admin.common import PageNumber, listing, refusal
from bandstand.web.visit import PageVisit

router = ServiceRouter()
DEAD_LETTER_ROWS = 100
MAX_ID = 2**31 - 1
OrderStatus = Literal["pending", "completed", "failed", ""]


@router.get("/orders")
async def orders_page(
    visit: PageVisit,
    status: Annotated[OrderStatus | None, Query()] = None,
    user_id: Annotated[str | None, Query(max_length=20)] = None,
    page: PageNumber = 1,
) -> Response:
    visit.admin()
    user_id = (user_id or "").strip()
    if user_id and not (user_id.isdigit() and 1 <= int(user_id) <= MAX_ID):
        return visit.page(
            "admin/orders.html",
            status_code=400,
            orders=None,
            status=status or "",
            user_id=user_id,
            errors={"user_id": "Give a user's id: a whole number from 1."},
        )
    orders = await listing(
        visit, "/api/v1/billing/orders", page, {"status": status, "user_id": user_id or None}
    )
    return visit.page(
        "admin/orders.html", orders=orders, status=status or "", user_id=user_id, errors={}
    )


@router.get("/dead-letters")
async def dead_letters_page(visit: PageVisit) -> Response:
    visit.admin()
    letters = await visit.get("/api/v1/billing/dead-letters", {"limit": DEAD_LETTER_ROWS})
    return visit.page("admin/dead_letters.html", letters=letters)


@router.post("/dead-letters/redrive")
async def redrive(visit: PageVisit, request: Request) -> Response:
    visit.admin()
    message_id = (await form_values(request)).get("message_id", "")
    body: dict[str, Any] | None = {"message_ids": [message_id]} if message_id else None
    answer = await visit.call("POST", "/api/v1/billing/dead-letters/redrive", json_body=body)
    if not answer.ok:
        return visit.redirect("/admin/dead-letters", refusal(answer), kind="error")
    count = int(answer.body.get("redriven", 0))
    if message_id and not count:
        return visit.redirect(
            "/admin/dead-letters", "That message is no longer dead-lettered.", kind="error"
        )
    plural = "message is" if count == 1 else "messages are"
    return visit.redirect("/admin/dead-letters", f"{count} {plural} back on the billing queue.")


@router.post("/dead-letters/{message_id}/delete")
async def delete_dead_letter(visit: PageVisit, message_id: str) -> Response:
    visit.admin()
    answer = await visit.call("DELETE", f"/api/v1/billing/dead-letters/{message_id}")
    if answer.ok or answer.status == 404:
        return visit.redirect("/admin/dead-letters", "The message is deleted for good.")
    return visit.redirect("/admin/dead-letters", refusal(answer), kind="error")


@router.get("/health")
async def health_page(visit: PageVisit) -> Response:
    visit.admin()
    # A degraded platform answers 503 with its report: the page shows it either way.
    answer, letters = await asyncio.gather(
        visit.call("GET", "/api/v1/health-check"),
        visit.call("GET", "/api/v1/billing/dead-letters", query={"limit": 1}),
    )
    if answer.status in (401, 403):
        await visit.get("/api/v1/health-check")  # the sign-in page or the refusal
    report = answer.body if isinstance(answer.body, dict) and "checks" in answer.body else None
    return visit.page(
        "admin/health.html",
        report=report,
        reason=refusal(answer),
        billing_dead=letters.body if letters.ok else None,
    )
