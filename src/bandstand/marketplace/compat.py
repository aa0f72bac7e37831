"""The instrument search backend's inherited routes (contract B), over the same service.

Its pages hold 50 listings in id order, with `total_pages` and `current_page`; a page that is
not a positive number or is past the end answers 404 `{"detail": "Invalid page."}`; bad prices
and a missing search name answer 400 with the field's errors in DRF's form (`{"field":
["message"]}`) beside `detail`. `maxPrice=Infinity` means no bound. Adding needs an admin.
"""

from __future__ import annotations

import json
import math
from typing import Any

from fastapi import Request, Response, status
from pydantic import ValidationError

from bandstand.marketplace.counting import ListingCounter
from bandstand.marketplace.listing_index import ListingIndex
from bandstand.marketplace.listing_rows import LEGACY_PAGE_JSON
from bandstand.marketplace.params import Counter, Listings, price_bound
from bandstand.marketplace.responses import LEGACY_PAGE, json_response
from bandstand.marketplace.schemas import InstrumentCreate, LegacyInstrument, LegacyPage
from bandstand.marketplace.service import (
    LINK_TAKEN,
    LinkTaken,
    ListingQuery,
    instrument_service,
    listing_filters,
)
from bandstand.platform.errors import BadRequest, NotFound, legacy_errors
from bandstand.platform.json_pages import page_response
from bandstand.platform.lean_routes import ServiceRouter
from bandstand.platform.schemas import NUL_MESSAGE, unstorable_reason
from bandstand.platform.security import AdminUser
from bandstand.platform.transactions import DBSession

router = ServiceRouter(tags=["marketplace (instrument search compatibility)"])
PAGE_SIZE = 50
MAX_PAGE = 10**9
INVALID_PAGE = "Invalid page."


def _field_error(name: str, message: str) -> BadRequest:
    return BadRequest(f"{name}: {message}", extra={name: [message]})


def _page_number(raw: str | None) -> int:
    if raw is None or raw == "":
        return 1
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_PAGE:
        raise NotFound(INVALID_PAGE)
    return int(text)


def _price(name: str, raw: str | None) -> Any:
    if raw is None:
        return None
    try:
        return price_bound(raw)
    except ValueError as exc:
        raise _field_error(name, "A valid number is required.") from exc


def _storable(name: str, raw: str | None) -> str | None:
    reason = None if raw is None else unstorable_reason(raw)
    if reason == NUL_MESSAGE:
        raise _field_error(name, "Null characters are not allowed.")  # DRF's own words
    if reason is not None:
        raise _field_error(name, f"It {reason}.")
    return raw


async def _legacy_page(
    session: DBSession,
    request: Request,
    counter: ListingCounter,
    listings: ListingIndex,
    query: ListingQuery,
    page_raw: str | None,
) -> Response:
    page = _page_number(page_raw)
    filters = listing_filters(query, min_price_name="minPrice", max_price_name="maxPrice")
    offset = (page - 1) * PAGE_SIZE
    found = await instrument_service.search_page(
        session, filters, offset, PAGE_SIZE, listings, LEGACY_PAGE_JSON
    )
    count, rows = (
        (found[0], [])
        if found is not None
        else await instrument_service.page(session, counter, filters, offset, PAGE_SIZE)
    )
    total_pages = max(1, math.ceil(count / PAGE_SIZE))
    if page > total_pages:
        raise NotFound(INVALID_PAGE)

    def link(number: int) -> str:
        if number == 1:
            return str(request.url.remove_query_params("page"))
        return str(request.url.include_query_params(page=number))

    body = {
        "next": link(page + 1) if page < total_pages else None,
        "previous": link(page - 1) if page > 1 else None,
        "count": count,
        "total_pages": total_pages,
        "current_page": page,
        "results": rows,
    }
    if found is not None:
        return page_response(body, found[1])
    return json_response(LEGACY_PAGE, body)


@router.get("/listInstrument", response_model=LegacyPage, summary="Listings by id, 50 a page")
@legacy_errors(validation_status=400)
async def legacy_list(
    session: DBSession,
    request: Request,
    counter: Counter,
    listings: Listings,
    page: str | None = None,
    category: str | None = None,
    minPrice: str | None = None,
    maxPrice: str | None = None,
) -> Response:
    query = ListingQuery(
        category=_storable("category", category),
        min_price=_price("minPrice", minPrice),
        max_price=_price("maxPrice", maxPrice),
        ordering="id",
    )
    return await _legacy_page(session, request, counter, listings, query, page)


@router.get(
    "/searchInstrument", response_model=LegacyPage, summary="Listings whose name matches, by id"
)
@legacy_errors(validation_status=400)
async def legacy_search(
    session: DBSession,
    request: Request,
    counter: Counter,
    listings: Listings,
    name: str | None = None,
    page: str | None = None,
    category: str | None = None,
    minPrice: str | None = None,
    maxPrice: str | None = None,
) -> Response:
    if name is None or not name.strip():
        raise _field_error("name", "This query parameter is required.")
    query = ListingQuery(
        search=_storable("name", name),
        category=_storable("category", category),
        min_price=_price("minPrice", minPrice),
        max_price=_price("maxPrice", maxPrice),
        ordering="id",
    )
    return await _legacy_page(session, request, counter, listings, query, page)


def _drf_errors(exc: ValidationError) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ())]
        name = location[0] if location else "non_field_errors"
        message = "This field is required." if error["type"] == "missing" else error["msg"]
        errors.setdefault(name, []).append(message)
    return errors


@router.post(
    "/addInstrument",
    status_code=status.HTTP_201_CREATED,
    response_model=LegacyInstrument,
    summary="Add a listing (admin)",
    openapi_extra={
        "requestBody": {
            # Fields it does not know are ignored, as the original did: allowed, not refused.
            "content": {
                "application/json": {
                    "schema": {**InstrumentCreate.model_json_schema(), "additionalProperties": True}
                }
            }
        }
    },
)
@legacy_errors(validation_status=400)
async def legacy_add(
    request: Request, admin: AdminUser, session: DBSession, response: Response
) -> LegacyInstrument:
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("JSON parse error", extra={"non_field_errors": ["Invalid JSON"]}) from exc
    if not isinstance(body, dict):
        raise BadRequest(
            "Invalid data. Expected a dictionary.",
            extra={"non_field_errors": ["Invalid data. Expected a dictionary."]},
        )
    # DRF ignores fields it does not know (an `id` sent is not used).
    known = {key: value for key, value in body.items() if key in InstrumentCreate.model_fields}
    try:
        data = InstrumentCreate.model_validate(known)
    except ValidationError as exc:
        errors = _drf_errors(exc)
        summary = "; ".join(f"{name}: {' '.join(texts)}" for name, texts in errors.items())
        raise BadRequest(summary, extra=errors) from exc
    try:
        instrument = await instrument_service.create(session, data, admin.id)
    except LinkTaken as exc:
        raise _field_error("link", LINK_TAKEN) from exc
    response.headers["Location"] = f"/api/v1/instruments/{instrument.id}"
    return LegacyInstrument.model_validate(instrument)
