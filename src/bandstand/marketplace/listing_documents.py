"""A listing as the search index keeps it, and a search as the index answers it: the document
of a stored row (its folded words, its filter keys, its price in cents and its days) and the
query of a search's filters, under the same matching rules as the database's search.

Each document keeps the object a page shows of its listing (`InstrumentRead`), written by the
database from the row as a page read from it would be (`listing_rows.PAGE_JSON`), so a search's
page is read from the index alone.

Expired listings are left out of the index: it holds the listings whose expiration is on or
after its `cutoff` day (moved to today once a day, `listing_index.py`), so a search on that day
needs no expiration filter at all, and a common word is a single term that tantivy answers
without scoring every match. Between midnight and the move, the filter is applied; searches
that include expired listings (admins) are answered in SQL.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import literal_column
from sqlalchemy.engine import Dialect

from bandstand.marketplace.listing_rows import PAGE_JSON
from bandstand.marketplace.models import Instrument
from bandstand.marketplace.repository import InstrumentFilters
from bandstand.platform.search_index import IndexedDocument, IndexFields, IndexQuery

FIELDS = IndexFields(
    keys=("category_key", "website_key", "location_key"),
    integers=("price_cents", "expiration_day", "publish_day"),
    shown=True,
)
VERSION = 5
NO_EXPIRY = date.max.toordinal()
_I64 = 2**63 - 1
COLUMNS = (
    Instrument.id,
    Instrument.search_text,
    Instrument.category_key,
    Instrument.website_key,
    Instrument.location_key,
    Instrument.price,
    Instrument.expiration,
    Instrument.publish,
)


def indexed_columns(dialect: Dialect) -> tuple[Any, ...]:
    """What a document is made of: `COLUMNS` and the object a page shows (`shown`)."""
    return (*COLUMNS, literal_column(PAGE_JSON.object_sql(dialect)).label("shown"))


def expired(row: Any, cutoff: int) -> bool:
    """Whether the listing of `row` expired before the day `cutoff` (an ordinal)."""
    return row.expiration is not None and row.expiration.toordinal() < cutoff


def document(row: Any) -> IndexedDocument:
    price = row.price
    return IndexedDocument(
        id=int(row.id),
        words=str(row.search_text).split(),
        keys={
            "category_key": row.category_key,
            "website_key": row.website_key,
            "location_key": row.location_key,
        },
        integers={
            "price_cents": None if price is None else round(Decimal(price) * 100),
            "expiration_day": NO_EXPIRY if row.expiration is None else row.expiration.toordinal(),
            "publish_day": None if row.publish is None else row.publish.toordinal(),
        },
        shown=str(row.shown),
    )


def index_query(
    filters: InstrumentFilters, offset: int, limit: int, cutoff: int
) -> IndexQuery | None:
    """The query answering `filters` from an index holding the listings that expire on or after
    the day `cutoff`; None when the index cannot answer: an order it does not keep, expired
    listings asked for, a cutoff after today (a clock set back), or no words (the plain list is
    the database's)."""
    if not filters.words or filters.ordering not in ("relevance", "id"):
        return None
    today = filters.today.toordinal()
    if filters.include_expired or cutoff > today:
        return None
    keys = {
        name: value
        for name, value in (
            ("category_key", filters.category_key),
            ("website_key", filters.website_key),
            ("location_key", filters.location_key),
        )
        if value is not None
    }
    ranges: dict[str, tuple[int | None, int | None]] = {}
    if cutoff < today:
        ranges["expiration_day"] = (today, None)
    if filters.min_price is not None or filters.max_price is not None:
        low = None if filters.min_price is None else _cents(filters.min_price, math.ceil)
        high = None if filters.max_price is None else _cents(filters.max_price, math.floor)
        ranges["price_cents"] = (low, high)
    if filters.published_after is not None:
        ranges["publish_day"] = (filters.published_after.toordinal(), None)
    if filters.ordering == "id":
        return IndexQuery(filters.words, keys, ranges, "id", offset, limit)
    return IndexQuery(filters.words, keys, ranges, "relevance", offset, limit)


def _cents(price: Decimal, rounding: Any) -> int:
    return max(-_I64, min(_I64, int(rounding(price * 100))))
