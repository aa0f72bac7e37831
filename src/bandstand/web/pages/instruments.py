"""Pages: the instrument marketplace, a search over listings scraped from other sites, with
category facets (their counts under the other filters), filters, ordering and pages. A listing
links out to its source site; nothing is sold here."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import Query
from starlette.responses import Response

from bandstand.platform.lean_routes import ServiceRouter
from bandstand.web.pages.listing import (
    TIMES,
    ListPage,
    PageNumber,
    filter_errors,
    is_htmx,
    local_url,
    page_url,
    refused_filters,
)
from bandstand.web.visit import PageVisit, page_error

router = ServiceRouter(include_in_schema=False)
PAGE_SIZE = 24
FILTERS = (
    "search",
    "category",
    "website",
    "location",
    "min_price",
    "max_price",
    "published_after",
    "ordering",
)
ORDERINGS = {
    "": "Default order",
    "price": "Price: low to high",
    "-price": "Price: high to low",
    "-publish": "Newest first",
    "publish": "Oldest first",
}
Ordering = Literal["", "price", "-price", "publish", "-publish", "relevance"]
Text = Annotated[str, Query(max_length=500)]


def outbound(link: str | None) -> str | None:
    """A listing's link, if it is a web address (no `javascript:` from a scraped row)."""
    if isinstance(link, str) and link.lower().startswith(("https://", "http://")):
        return link
    return None


@router.get("/instruments")
async def instrument_search(
    visit: PageVisit,
    search: Text = "",
    category: Text = "",
    website: Text = "",
    location: Text = "",
    min_price: Annotated[str, Query(max_length=40)] = "",
    max_price: Annotated[str, Query(max_length=40)] = "",
    published_after: Annotated[str, Query(max_length=40)] = "",
    ordering: Ordering = "",
    page: PageNumber = 1,
) -> Response:
    values = {
        "search": search.strip(),
        "category": category.strip(),
        "website": website.strip(),
        "location": location.strip(),
        "min_price": min_price.strip(),
        "max_price": max_price.strip(),
        "published_after": published_after.strip(),
        "ordering": ordering,
    }
    # The facets count each category under every filter but the category itself.
    facet_query = {**values, "category": "", "ordering": ""}
    listings, categories = await asyncio.gather(
        visit.call(
            "GET", "/api/v1/instruments", query={**values, "page": page, "page_size": PAGE_SIZE}
        ),
        visit.call("GET", "/api/v1/instruments/categories", query=facet_query),
    )
    errors: dict[str, str] = {}
    listing = ListPage.empty(page)
    facets: list[dict[str, Any]] = []
    if refused_filters(listings):
        errors = {
            field: message.replace("max_price", "the max price")
            for field, message in filter_errors(listings, FILTERS).items()
        }
    elif not listings.ok:
        raise page_error(listings)
    else:
        listing = ListPage.of(listings.body, page)
        facets = categories.body["results"] if categories.ok else []
    response = visit.page(
        "instruments/search.html",
        # htmx swaps only a success: its request gets the errors as a 200.
        status_code=400 if errors and not is_htmx(visit) else 200,
        values=values,
        errors=errors,
        listing=listing,
        facets=facets,
        orderings=ORDERINGS,
        filtered=any(v for k, v in values.items() if k != "ordering"),
        outbound=outbound,
        local_image=local_url,
        search_url=partial(page_url, "/instruments", values),
        **TIMES,
    )
    if is_htmx(visit):
        response.headers["HX-Push-Url"] = page_url("/instruments", values, page=page)
    return response
