"""Console: the audit log, filtered by action, actor, service and days."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any

from fastapi import Query
from starlette.responses import Response

from bandstand.platform.lean_routes import ServiceRouter
from bandstand.web.pages.admin.common import PageNumber, listing
from bandstand.web.visit import PageVisit, Visit

router = ServiceRouter()
ACTIONS = (
    "identity.user.registered",
    "identity.user.logged_in",
    "identity.user.updated",
    "identity.user.deleted",
    "marketplace.instruments.imported",
    "billing.order.created",
    "billing.order.completed",
    "billing.order.failed",
    "academy.enrollment.created",
    "music.song.created",
    "music.song.updated",
    "music.song.deleted",
    "music.song.liked",
    "admin.setting.created",
    "admin.setting.updated",
    "admin.setting.deleted",
)
SERVICES = (
    "identity",
    "music",
    "concerts",
    "marketplace",
    "inventory",
    "billing",
    "academy",
    "admin",
)
Text = Annotated[str | None, Query(max_length=255)]


async def _actor_id(visit: Visit, actor: str) -> int | None:
    """The user id an actor filter names: an id as it is, a username looked up."""
    if actor.isdigit():
        return int(actor)
    found = await visit.get("/api/v1/users", {"search": actor, "page_size": 100})
    for user in found["results"]:
        if user["username"].lower() == actor.lower():
            return int(user["id"])
    return None


def _day(text: str | None) -> tuple[date | None, str | None]:
    """A day of the filter (YYYY-MM-DD), or why it is not one; empty is no filter."""
    if not text:
        return None, None
    try:
        return date.fromisoformat(text), None
    except ValueError:
        return None, "Give a day as YYYY-MM-DD."


async def _usernames(visit: Visit, entries: list[dict[str, Any]]) -> dict[int, str]:
    """The usernames of the entries' actors (a deleted user has none any more)."""
    ids = sorted({e["actor_id"] for e in entries if isinstance(e.get("actor_id"), int)})
    answers = await asyncio.gather(*(visit.call("GET", f"/api/v1/users/{i}") for i in ids))
    return {i: a.body["username"] for i, a in zip(ids, answers, strict=True) if a.ok}


@router.get("/audit")
async def audit_page(
    visit: PageVisit,
    action: Text = None,
    actor: Annotated[str | None, Query(max_length=150)] = None,
    service: Annotated[str | None, Query(max_length=50)] = None,
    date_from: Annotated[str | None, Query(max_length=20)] = None,
    date_to: Annotated[str | None, Query(max_length=20)] = None,
    page: PageNumber = 1,
) -> Response:
    visit.admin()
    errors: dict[str, str] = {}
    actor = (actor or "").strip()
    actor_id = await _actor_id(visit, actor) if actor else None
    if actor and actor_id is None:
        errors["actor"] = f"No user is called “{actor}”."
    first, first_error = _day(date_from)
    last, last_error = _day(date_to)
    errors.update(
        {name: text for name, text in (("date_from", first_error), ("date_to", last_error)) if text}
    )
    if first and last and first > last:
        errors["date_to"] = "The last day comes before the first."
    entries = None
    if not errors:
        entries = await listing(
            visit,
            "/api/v1/logs",
            page,
            {
                "action": action,
                "user": actor_id,
                "service": service,
                "date_from": first.isoformat() if first else None,
                "date_to": last.isoformat() if last else None,
            },
        )
    return visit.page(
        "admin/audit.html",
        names=await _usernames(visit, entries.results if entries else []),
        status_code=400 if errors else 200,
        entries=entries,
        errors=errors,
        values={
            "action": action or "",
            "actor": actor,
            "service": service or "",
            "date_from": date_from or "",
            "date_to": date_to or "",
        },
        actions=ACTIONS,
        services=SERVICES,
    )
