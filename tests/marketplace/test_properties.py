"""Property-based tests of the filters, orderings and pagination against a reference model:
walking the pages yields every listing matching the filters exactly once, in order, on both
engines, for the canonical list and the inherited one."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.marketplace.conftest import Marketplace

PROPERTY_SETTINGS = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TODAY = datetime.now(UTC).date()
NAMES = [
    "Guitarra Clásica",
    "guitarra eléctrica Fender",
    "Fender Stratocaster",
    "Bajo Fender",
    "Piano Yamaha",
    "Yamaha Clavinova",
    "Batería Pearl",
    "Violín antiguo",
    "Guitarra Yamaha",
]
CATEGORIES = [None, "Guitarras", "GUITARRAS", "Pianos", "Cuerda"]
PRICES = [None, "10.00", "99.50", "99.50", "250.00", "1200.00"]
PUBLISH = [None, "2026-01-01", "2026-06-15", "2026-06-15", "2026-11-30"]
EXPIRATION = [None, None, (TODAY - timedelta(days=3)).isoformat(), "2099-01-01"]
SEARCHES = [None, None, "guitarra", "fender", "yamaha piano", "GUIT", "clasica", "bajo fend"]


def _words(text: str) -> list[str]:
    """The reference's own reading of words: Latin letters without accents, and digits."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.findall(r"[a-z0-9]+", plain)


def _rows() -> list[dict[str, Any]]:
    """A fixed shop where every value repeats (ties) and many are missing."""
    return [
        {
            "name": NAMES[n % len(NAMES)],
            "category": CATEGORIES[n % len(CATEGORIES)],
            "price": PRICES[n % len(PRICES)],
            "publish": PUBLISH[(n // 2) % len(PUBLISH)],
            "expiration": EXPIRATION[(n // 3) % len(EXPIRATION)],
            "website": ["wallapop.com", "Milanuncios.com"][n % 2],
        }
        for n in range(40)
    ]


@dataclass(frozen=True)
class Query:
    search: str | None
    category: str | None
    min_price: str | None
    max_price: str | None
    published_after: str | None
    ordering: str | None
    page_size: int

    def params(self) -> dict[str, str]:
        values = {
            "search": self.search,
            "category": self.category,
            "min_price": self.min_price,
            "max_price": self.max_price,
            "published_after": self.published_after,
            "ordering": self.ordering,
        }
        params = {key: value for key, value in values.items() if value is not None}
        return {**params, "page_size": str(self.page_size)}

    def matches(self, row: dict[str, Any]) -> bool:
        if row["expiration"] is not None and date.fromisoformat(row["expiration"]) < TODAY:
            return False
        if self.search is not None:
            names = _words(row["name"])
            if not all(any(w.startswith(q) for w in names) for q in _words(self.search)):
                return False
        category = row["category"]
        if self.category is not None and (category or "").lower() != self.category.lower():
            return False
        price = Decimal(row["price"]) if row["price"] is not None else None
        if self.min_price is not None and (price is None or price < Decimal(self.min_price)):
            return False
        if self.max_price is not None and (price is None or price > Decimal(self.max_price)):
            return False
        return not (
            self.published_after is not None
            and (row["publish"] is None or row["publish"] < self.published_after)
        )


queries = st.builds(
    Query,
    search=st.sampled_from(SEARCHES),
    category=st.sampled_from([None, None, "guitarras", "PIANOS", "cuerda", "nada"]),
    min_price=st.sampled_from([None, None, "10", "99.5", "300"]),
    max_price=st.sampled_from([None, None, "99.50", "1200", "5"]),
    published_after=st.sampled_from([None, None, "2026-06-15", "2026-12-01"]),
    ordering=st.sampled_from([None, "price", "-price", "publish", "-publish", "relevance"]),
    page_size=st.integers(1, 7),
)


def _sort_key(ordering: str | None, row: dict[str, Any], stored_id: int) -> tuple[Any, ...]:
    """Missing values last in either direction, then the id."""
    if ordering in ("price", "-price", "publish", "-publish"):
        raw = row[ordering.lstrip("-")]
        value = None if raw is None else (Decimal(raw) if "price" in ordering else raw)
        if value is None:
            return (1, 0, stored_id)
        if ordering.startswith("-"):
            rank = -value if isinstance(value, Decimal) else -date.fromisoformat(value).toordinal()
            return (0, rank, stored_id)
        return (0, value, stored_id)
    return (0, 0, stored_id)


async def _walk(client: httpx.AsyncClient, first: str, params: dict[str, str]) -> list[int]:
    response = await client.get(first, params=params)
    assert response.status_code == 200, response.text
    page = response.json()
    count, ids = page["count"], [item["id"] for item in page["results"]]
    while page["next"]:
        page = (await client.get(page["next"])).json()
        assert page["count"] == count
        assert page["results"], "a page before the last is never empty"
        ids += [item["id"] for item in page["results"]]
    assert len(ids) == count
    return ids


@pytest.fixture
async def shop(marketplace: Marketplace) -> dict[int, dict[str, Any]]:
    rows = _rows()
    ids = await marketplace.add_many([dict(row) for row in rows])
    # Deep pages start from anchors every 4 listings: walking them must find the same listings.
    marketplace.use_counter(anchor_every=4)
    return dict(zip(ids, rows, strict=True))


@PROPERTY_SETTINGS
@given(query=queries)
async def test_every_match_appears_exactly_once_across_pages_in_order(
    client: httpx.AsyncClient, shop: dict[int, dict[str, Any]], query: Query
) -> None:
    if (
        query.min_price is not None
        and query.max_price is not None
        and Decimal(query.min_price) > Decimal(query.max_price)
    ):
        response = await client.get("/api/v1/instruments", params=query.params())
        assert response.status_code == 400
        return
    ids = await _walk(client, "/api/v1/instruments", query.params())

    expected = [stored for stored, row in shop.items() if query.matches(row)]
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(expected)
    if query.ordering != "relevance" and not (query.ordering is None and query.search):
        assert ids == sorted(
            ids, key=lambda stored: _sort_key(query.ordering, shop[stored], stored)
        )


@PROPERTY_SETTINGS
@given(query=queries.map(lambda q: replace(q, ordering=None, published_after=None)))
async def test_the_inherited_list_and_search_walk_the_same_listings(
    client: httpx.AsyncClient, shop: dict[int, dict[str, Any]], query: Query
) -> None:
    params = {
        key: value
        for key, value in {
            "category": query.category,
            "minPrice": query.min_price,
            "maxPrice": query.max_price,
            "name": query.search,
        }.items()
        if value is not None
    }
    path = "/searchInstrument" if query.search else "/listInstrument"
    response = await client.get(path, params=params)
    if response.status_code == 400:
        assert Decimal(query.min_price or 0) > Decimal(query.max_price or "Infinity")
        return
    ids = await _walk(client, path, params)
    expected = sorted(stored for stored, row in shop.items() if query.matches(row))
    assert ids == expected  # in id order, every one once
