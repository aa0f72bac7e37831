"""Marketplace's canonical API under /api/v1: the listings, their categories, admin writes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request, Response

from bandstand.marketplace.params import (
    Counter,
    IncludeExpired,
    InstrumentId,
    Listings,
    MaxPrice,
    MinPrice,
    OrderingParam,
    PublishedAfter,
    Search,
    TextFilter,
)
from bandstand.marketplace.repository import InstrumentFilters
from bandstand.marketplace.responses import LISTING_PAGE, json_response
from bandstand.marketplace.schemas import (
    Categories,
    CategoryCount,
    InstrumentCreate,
    InstrumentRead,
    InstrumentUpdate,
)
from bandstand.marketplace.service import ListingQuery, instrument_service, listing_filters
from bandstand.platform.errors import Forbidden, Unauthorized, legacy_errors
from bandstand.platform.json_pages import page_response
from bandstand.platform.lean_routes import ServiceRouter
from bandstand.platform.pagination import Page, Pagination, build_page, paginate
from bandstand.platform.resources import AdminResource, validated
from bandstand.platform.security import OptionalUser
from bandstand.platform.transactions import DBSession

router = ServiceRouter(prefix="/api/v1", tags=["marketplace"])


# Dependencies are `async def` although they wait for nothing: FastAPI runs a plain `def` one in
# its thread pool, a thread hop per request for a few microseconds of work.
async def _filters(
    viewer: OptionalUser,
    search: Search = None,
    category: TextFilter = None,
    website: TextFilter = None,
    location: TextFilter = None,
    min_price: MinPrice = None,
    max_price: MaxPrice = None,
    published_after: PublishedAfter = None,
    include_expired: IncludeExpired = False,
    ordering: OrderingParam = None,
) -> InstrumentFilters:
    if include_expired and viewer is None:
        raise Unauthorized("include_expired: only an admin may see expired listings")
    if include_expired and viewer is not None and viewer.role != "admin":
        raise Forbidden("include_expired: only an admin may see expired listings")
    query = ListingQuery(
        search=search,
        category=category,
        website=website,
        location=location,
        min_price=min_price,
        max_price=max_price,
        published_after=published_after,
        include_expired=include_expired,
        ordering=ordering,
    )
    return listing_filters(query)


Filters = Annotated[InstrumentFilters, Depends(_filters)]


@router.get(
    "/instruments",
    response_model=Page[InstrumentRead],
    summary="Search and filter the listings (expired ones hidden)",
)
@legacy_errors(validation_status=400)
async def list_instruments(
    session: DBSession,
    request: Request,
    pagination: Pagination,
    filters: Filters,
    counter: Counter,
    listings: Listings,
) -> Response | dict[str, Any]:
    if not filters.words:
        page = await paginate(
            session,
            instrument_service.listing(session, filters),
            pagination,
            request,
            scalars=False,
            counter=lambda: counter.count(session, filters),
            keep_count=False,
        )
        return json_response(LISTING_PAGE, page)
    offset, size = pagination.offset, pagination.page_size
    found = await instrument_service.search_page(session, filters, offset, size, listings)
    if found is not None:
        count, results = found
        return page_response(build_page(request, pagination, count, []), results)
    count, rows = await instrument_service.page(session, counter, filters, offset, size)
    return json_response(LISTING_PAGE, build_page(request, pagination, count, rows))


@router.get(
    "/instruments/categories",
    response_model=Categories,
    summary="Each category with its number of listings under the same filters",
)
@legacy_errors(validation_status=400)
async def list_categories(session: DBSession, filters: Filters) -> Categories:
    counted = await instrument_service.categories(session, filters)
    return Categories(results=[CategoryCount(category=c, count=n) for c, n in counted])


instruments = AdminResource(
    "/instruments",
    "instrument",
    InstrumentId,
    InstrumentRead,
    instrument_service,
    present=validated(InstrumentRead.of),
)


# Public, and only an admin sees an expired listing: not `AdminResource.add_get`.
@router.get("/instruments/{instrument_id}", response_model=InstrumentRead, summary="One listing")
async def get_instrument(
    instrument_id: InstrumentId, session: DBSession, viewer: OptionalUser
) -> InstrumentRead:
    admin = viewer is not None and viewer.role == "admin"
    instrument = await instrument_service.get(session, instrument_id, include_expired=admin)
    return InstrumentRead.of(instrument)


instruments.add_create(router, InstrumentCreate, "Add a listing (admin)")
instruments.add_patch(router, InstrumentUpdate, "Change a listing (admin)")
instruments.add_delete(router, "Delete a listing (admin)")
