"""Query parameters of the marketplace's lists, parsed once for both kinds of route."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from pydantic import PlainValidator

from bandstand.marketplace.counting import ListingCounter
from bandstand.marketplace.listing_index import ListingIndex
from bandstand.marketplace.models import MAX_ID
from bandstand.marketplace.schemas import Ordering, parse_date, parse_price
from bandstand.platform.schemas import StorableText


def price_bound(value: Any) -> Decimal | None:
    """A price bound: a number (at most 2 decimals), or `Infinity` / empty for none."""
    if isinstance(value, str) and value.strip().lower() in ("", "infinity", "inf", "+infinity"):
        return None
    return parse_price(value)


def date_bound(value: Any) -> date | None:
    if isinstance(value, str) and not value.strip():
        return None
    return parse_date(value)


InstrumentId = Annotated[int, Path(ge=1, le=MAX_ID, description="The listing's id")]
PriceBound = Annotated[
    Decimal | None,
    PlainValidator(price_bound, json_schema_input_type=str | None),
]
Search = Annotated[
    str | None,
    StorableText(max_length=200),
    Query(
        description="Words that must all start a word of the name, in any order, ignoring case "
        "and accents",
    ),
]
TextFilter = Annotated[str | None, StorableText(max_length=500), Query()]
MinPrice = Annotated[PriceBound, Query(description="At least this price")]
MaxPrice = Annotated[PriceBound, Query(description="At most this price (`Infinity`: no bound)")]
PublishedAfter = Annotated[
    date | None,
    PlainValidator(date_bound, json_schema_input_type=str | None),
    Query(description="Published on or after this day (YYYY-MM-DD)"),
]
IncludeExpired = Annotated[
    bool, Query(description="Admins only: include the listings whose expiration has passed")
]
OrderingParam = Annotated[
    Ordering | None,
    Query(description="By price or publication day; `relevance` (the default of a search)"),
]


async def listing_counter(request: Request) -> ListingCounter:
    counter: ListingCounter = request.app.state.listing_counter
    return counter


Counter = Annotated[ListingCounter, Depends(listing_counter)]


async def listing_index(request: Request) -> ListingIndex:
    index: ListingIndex = request.app.state.listing_index
    return index


Listings = Annotated[ListingIndex, Depends(listing_index)]
"""The search index of the listings (`listing_index.py`)."""
