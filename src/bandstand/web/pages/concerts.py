"""Pages: the concert calendar (upcoming and past), one concert with the visitor's attendance,
and the concerts the visitor attends."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path, Query
from starlette.requests import Request
from starlette.responses import Response

from bandstand.platform.lean_routes import ServiceRouter
from bandstand.web.forms import form_values
from bandstand.web.pages.listing import (
    TIMES,
    ListPage,
    PageNumber,
    filter_errors,
    local_url,
    refused_filters,
)
from bandstand.web.visit import PageVisit, page_error

router = ServiceRouter(include_in_schema=False)
PAGE_SIZE = 12
MAX_ID = 2**31 - 1
FILTERS = ("city", "date_from", "date_to")
When = Literal["upcoming", "past"]
MineWhen = Literal["upcoming", "past", "all"]
ConcertId = Annotated[int, Path(ge=1, le=MAX_ID)]
TextFilter = Annotated[str, Query(max_length=100)]
ANSWERS = {"Attending": "You attend.", "Not Attending": "You do not attend.", "-": ""}


def _calendar_query(when: str) -> dict[str, Any]:
    if when == "past":
        return {"upcoming": False, "ordering": "-date"}
    return {"upcoming": True, "ordering": "date"}


@router.get("/concerts")
async def concert_list(
    visit: PageVisit,
    when: When = "upcoming",
    city: TextFilter = "",
    date_from: TextFilter = "",
    date_to: TextFilter = "",
    page: PageNumber = 1,
) -> Response:
    values = {"city": city.strip(), "date_from": date_from.strip(), "date_to": date_to.strip()}
    answer = await visit.call(
        "GET",
        "/api/v1/concerts",
        query={**values, **_calendar_query(when), "page": page, "page_size": PAGE_SIZE},
    )
    errors: dict[str, str] = {}
    if refused_filters(answer):
        errors = filter_errors(answer, FILTERS)
        listing = ListPage.empty(page)
    elif not answer.ok:
        raise page_error(answer)
    else:
        listing = ListPage.of(answer.body, page)
    return visit.page(
        "concerts/list.html",
        status_code=400 if errors else 200,
        when=when,
        values=values,
        errors=errors,
        listing=listing,
        filtered=any(values.values()),
        **TIMES,
    )


@router.get("/concerts/mine")
async def my_concerts(
    visit: PageVisit, when: MineWhen = "upcoming", page: PageNumber = 1
) -> Response:
    visit.signed_in()
    upcoming = {"upcoming": True, "past": False}.get(when)
    body = await visit.get(
        "/api/v1/me/concerts",
        {"status": "Attending", "upcoming": upcoming, "page": page, "page_size": PAGE_SIZE},
    )
    return visit.page("concerts/mine.html", when=when, listing=ListPage.of(body, page), **TIMES)


async def _picture_url(visit: PageVisit, picture_id: int | None) -> str | None:
    """The concert's picture when the music service shows it to this visitor and it is served
    here (the pages' policy loads no image from elsewhere)."""
    if picture_id is None or visit.user is None:
        return None
    answer = await visit.call("GET", f"/api/v1/pictures/{picture_id}")
    url = answer.body.get("pic_url") if answer.ok and isinstance(answer.body, dict) else None
    return local_url(url)


@router.get("/concerts/{concert_id}")
async def concert_page(visit: PageVisit, concert_id: ConcertId) -> Response:
    concert = await visit.get(f"/api/v1/concerts/{concert_id}")
    picture = await _picture_url(visit, concert.get("picture_id"))
    return visit.page("concerts/detail.html", concert=concert, picture=picture, error=None, **TIMES)


@router.post("/concerts/{concert_id}/attendance")
async def set_attendance(visit: PageVisit, request: Request, concert_id: ConcertId) -> Response:
    visit.signed_in()
    status = (await form_values(request)).get("status", "")
    answer = await visit.call(
        "PUT", f"/api/v1/concerts/{concert_id}/attendance", json_body={"status": status}
    )
    htmx = request.headers.get("hx-request") == "true"
    if answer.ok:
        if htmx:
            concert = {"id": concert_id, **_attendance_view(answer.body)}
            return visit.page("concerts/_attendance.html", concert=concert, error=None)
        return visit.redirect(f"/concerts/{concert_id}", ANSWERS.get(status) or "Answer withdrawn.")
    if answer.status in (400, 422):
        concert = await visit.get(f"/api/v1/concerts/{concert_id}")
        error = "Choose Attending or Not attending."
        template = "concerts/_attendance.html" if htmx else "concerts/detail.html"
        # htmx swaps only a success: its request gets the error as a 200.
        return visit.page(
            template,
            status_code=200 if htmx else 400,
            concert=concert,
            picture=None,
            error=error,
            **TIMES,
        )
    raise page_error(answer)


def _attendance_view(attendance: dict[str, Any]) -> dict[str, Any]:
    return {"my_status": attendance["status"], "attending_count": attendance["attending_count"]}
