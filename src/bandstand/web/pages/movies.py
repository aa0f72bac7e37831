"""Pages: the movie catalogue (title search, genre filter), ordering a movie through billing,
and the visitor's orders, whose status changes on the page while billing's worker runs."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Path, Query
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bandstand.platform.lean_routes import ServiceRouter
from bandstand.web.forms import form_values
from bandstand.web.pages.listing import (
    TIMES,
    ListPage,
    PageNumber,
    filter_errors,
    is_htmx,
    page_url,
    refused_filters,
)
from bandstand.web.visit import PageVisit, page_error

router = ServiceRouter(include_in_schema=False)
PAGE_SIZE = 12
ORDERS_PAGE_SIZE = 20
GENRE_SAMPLE = 100
"""Movies read to offer their genres as suggestions (the catalogue has no genre list)."""
MAX_ID = 2**31 - 1
PRICE = Decimal("3.99")
"""The price of a copy: the catalogue has no prices, so the pages offer every movie at one."""
CURRENCY = "EUR"
MAX_COPIES = 5
FILTERS = ("title", "genre")
SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$"}
MovieId = Annotated[int, Path(ge=1, le=MAX_ID)]
Text = Annotated[str, Query(max_length=200)]


def money(amount: str | Decimal | None, currency: str) -> str:
    if amount is None:
        return ""
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{amount}" if symbol else f"{amount} {currency}"


HELPERS: dict[str, Any] = {**TIMES, "money": money}


@router.get("/movies")
async def movie_list(
    visit: PageVisit, title: Text = "", genre: Text = "", page: PageNumber = 1
) -> Response:
    values = {"title": title.strip(), "genre": genre.strip()}
    movies, sample = await asyncio.gather(
        visit.call("GET", "/api/v1/movies", query={**values, "page": page, "page_size": PAGE_SIZE}),
        visit.call("GET", "/api/v1/movies", query={"page_size": GENRE_SAMPLE}),
    )
    errors: dict[str, str] = {}
    listing = ListPage.empty(page)
    if refused_filters(movies):
        errors = filter_errors(movies, FILTERS)
    elif not movies.ok:
        raise page_error(movies)
    else:
        listing = ListPage.of(movies.body, page)
    genres = sorted(
        {g for movie in (sample.body["results"] if sample.ok else []) for g in movie["genres"]},
        key=str.casefold,
    )
    response = visit.page(
        "movies/list.html",
        status_code=400 if errors and not is_htmx(visit) else 200,
        values=values,
        errors=errors,
        listing=listing,
        genres=genres,
        filtered=any(values.values()),
        **HELPERS,
    )
    if is_htmx(visit):
        response.headers["HX-Push-Url"] = page_url("/movies", values, page=page)
    return response


def _order_form(
    movie: dict[str, Any], copies: int = 1, errors: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "movie": movie,
        "copies": copies,
        "max_copies": MAX_COPIES,
        "price": money(PRICE, CURRENCY),
        "errors": errors or {},
    }


@router.get("/movies/{movie_id}")
async def movie_page(visit: PageVisit, movie_id: MovieId) -> Response:
    movie = await visit.get(f"/api/v1/movies/{movie_id}")
    return visit.page("movies/detail.html", **_order_form(movie), **HELPERS)


@router.post("/movies/{movie_id}/order")
async def order_movie(visit: PageVisit, request: Request, movie_id: MovieId) -> Response:
    visit.signed_in()
    movie = await visit.get(f"/api/v1/movies/{movie_id}")
    raw = (await form_values(request)).get("copies", "1")
    copies = int(raw) if raw.isdigit() else 0
    if not 1 <= copies <= MAX_COPIES:
        errors = {"copies": f"Choose between 1 and {MAX_COPIES} copies."}
        return visit.page(
            "movies/detail.html", status_code=400, **_order_form(movie, errors=errors), **HELPERS
        )
    answer = await visit.call(
        "POST",
        "/api/v1/billing/orders",
        json_body={
            "number_of_items": copies,
            "total_amount": str(PRICE * copies),
            "currency": CURRENCY,
        },
    )
    if not answer.ok:
        if answer.status in (400, 422):
            errors = {"": answer.detail()}
            return visit.page(
                "movies/detail.html",
                status_code=400,
                **_order_form(movie, copies, errors=errors),
                **HELPERS,
            )
        raise page_error(answer)
    plural = "copy" if copies == 1 else "copies"
    return visit.redirect(
        "/orders",
        f"Your order for {copies} {plural} of {movie['title']} is placed. "
        "Billing is processing it.",
    )


@router.get("/orders")
async def my_orders(visit: PageVisit, page: PageNumber = 1) -> Response:
    visit.signed_in()
    body = await visit.get("/api/v1/billing/orders", {"page": page, "page_size": ORDERS_PAGE_SIZE})
    listing = ListPage.of(body, page)
    pending = any(order["status"] == "pending" for order in listing.results)
    return visit.page("movies/orders.html", listing=listing, pending=pending, **HELPERS)


@router.get("/orders/{order_id}/status")
async def order_status(visit: PageVisit, order_id: uuid.UUID) -> Response:
    """One order's row: while it is pending the row asks again every second (htmx)."""
    visit.signed_in()
    if not is_htmx(visit):
        return RedirectResponse("/orders", status_code=303)
    order = await visit.get(f"/api/v1/billing/orders/{order_id}")
    return visit.page("movies/_order.html", order=order, **HELPERS)
