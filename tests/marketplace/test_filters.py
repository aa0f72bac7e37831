"""Filters, orderings, hidden expired listings, categories and bad query parameters."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.marketplace.conftest import Marketplace

YESTERDAY = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
TODAY = datetime.now(UTC).date().isoformat()


@pytest.fixture
async def shop(marketplace: Marketplace) -> dict[str, int]:
    rows = {
        "strat": dict(
            name="Fender Stratocaster",
            price="899.00",
            category="Guitarras eléctricas",
            website="wallapop.com",
            location="Madrid",
            publish="2026-10-01",
        ),
        "tele": dict(
            name="Fender Telecaster",
            price="1200.50",
            category="guitarras ELECTRICAS",
            website="Wallapop.com",
            location="Sevilla",
            publish="2026-11-15",
        ),
        "cello": dict(
            name="Violonchelo 4/4",
            price=None,
            category="Cuerda",
            website="milanuncios.com",
            location="madrid ",
            publish=None,
        ),
        "piano": dict(
            name="Piano de pared",
            price="2500.00",
            category="Pianos",
            website="milanuncios.com",
            location="Málaga",
            publish="2026-09-20",
        ),
        "gone": dict(
            name="Guitarra caducada",
            price="50.00",
            category="Guitarras eléctricas",
            website="wallapop.com",
            location="Madrid",
            expiration=YESTERDAY,
        ),
        "today": dict(
            name="Guitarra de hoy",
            price="60.00",
            category=None,
            website="wallapop.com",
            location=None,
            expiration=TODAY,
        ),
    }
    return {key: await marketplace.add(**row) for key, row in rows.items()}


async def _ids(client: httpx.AsyncClient, shop: dict[str, int], query: str, **kw: str) -> list[str]:
    response = await client.get(f"/api/v1/instruments?page_size=100&{query}", **kw)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    names = {stored: key for key, stored in shop.items()}
    body = response.json()
    assert body["count"] == len(body["results"])
    return [names[item["id"]] for item in body["results"]]


async def test_every_filter(
    marketplace: Marketplace, client: httpx.AsyncClient, shop: dict[str, int]
) -> None:
    cases = {
        "": ["strat", "tele", "cello", "piano", "today"],
        "category=Guitarras%20El%C3%A9ctricas": ["strat", "tele"],
        "category=guitarras%20electricas&website=WALLAPOP.COM": ["strat", "tele"],
        "website=milanuncios.com": ["cello", "piano"],
        "location=MADRID": ["strat", "cello"],
        "location=malaga": ["piano"],
        "min_price=900": ["tele", "piano"],
        "max_price=899": ["strat", "today"],
        "min_price=899&max_price=1200.50": ["strat", "tele"],
        "max_price=Infinity&min_price=1000": ["tele", "piano"],
        "published_after=2026-10-01": ["strat", "tele"],
        "category=pianos&min_price=1": ["piano"],
        "category=nothing": [],
        "category=&website=": ["strat", "tele", "cello", "piano", "today"],
    }
    for query, expected in cases.items():
        assert await _ids(client, shop, query) == expected, query


async def test_orderings_put_missing_values_last(
    client: httpx.AsyncClient, shop: dict[str, int]
) -> None:
    assert await _ids(client, shop, "ordering=price") == [
        "today",
        "strat",
        "tele",
        "piano",
        "cello",
    ]
    assert await _ids(client, shop, "ordering=-price") == [
        "piano",
        "tele",
        "strat",
        "today",
        "cello",
    ]
    assert await _ids(client, shop, "ordering=publish") == [
        "piano",
        "strat",
        "tele",
        "cello",
        "today",
    ]
    assert await _ids(client, shop, "ordering=-publish") == [
        "tele",
        "strat",
        "piano",
        "cello",
        "today",
    ]
    # Relevance without a search is the id order.
    assert await _ids(client, shop, "ordering=relevance") == await _ids(client, shop, "")


async def test_expired_listings_are_hidden_except_from_an_admin_who_asks(
    marketplace: Marketplace, client: httpx.AsyncClient, shop: dict[str, int]
) -> None:
    assert "gone" not in await _ids(client, shop, "search=guitarra")
    assert (await client.get(f"/api/v1/instruments/{shop['gone']}")).status_code == 404
    admin = await _ids(client, shop, "include_expired=true", headers=marketplace.admin)
    assert admin == ["strat", "tele", "cello", "piano", "gone", "today"]
    detail = await client.get(f"/api/v1/instruments/{shop['gone']}", headers=marketplace.admin)
    assert detail.status_code == 200
    anonymous = await client.get("/api/v1/instruments?include_expired=true")
    assert anonymous.status_code == 401
    user = await client.get("/api/v1/instruments?include_expired=true", headers=marketplace.alice)
    assert user.status_code == 403


async def test_categories_count_under_the_filters(
    marketplace: Marketplace, client: httpx.AsyncClient, shop: dict[str, int]
) -> None:
    response = await client.get("/api/v1/instruments/categories")
    assert response.status_code == 200
    assert response.json()["results"] == [
        {"category": "Guitarras eléctricas", "count": 2},
        {"category": "Cuerda", "count": 1},
        {"category": "Pianos", "count": 1},
    ]
    filtered = await client.get("/api/v1/instruments/categories?search=fender&max_price=1000")
    assert filtered.json()["results"] == [{"category": "Guitarras eléctricas", "count": 1}]
    everything = await client.get(
        "/api/v1/instruments/categories?include_expired=true", headers=marketplace.admin
    )
    assert everything.json()["results"][0] == {"category": "Guitarras eléctricas", "count": 3}


BAD_PARAMETERS = [
    ("min_price=cheap", "min_price"),
    ("max_price=1e400", "max_price"),
    ("min_price=NaN", "min_price"),
    ("min_price=10&max_price=5", "min_price"),
    ("ordering=name", "ordering"),
    ("page=0", "page"),
    ("page=two", "page"),
    ("page_size=1000", "page_size"),
    ("published_after=yesterday", "published_after"),
    ("include_expired=maybe", "include_expired"),
    ("search=%00", "search"),
    ("category=" + "c" * 501, "category"),
]


async def test_bad_parameters_are_400_naming_the_parameter(client: httpx.AsyncClient) -> None:
    paths = ("/api/v1/instruments", "/api/v1/instruments/categories")
    for (query, parameter), path in itertools.product(BAD_PARAMETERS, paths):
        if parameter in ("page", "page_size") and path.endswith("categories"):
            continue
        response = await client.get(f"{path}?{query}")
        assert response.status_code == 400, (path, query, response.text)
        assert parameter in response.text


async def test_pages_past_the_end_are_404(client: httpx.AsyncClient, shop: dict[str, int]) -> None:
    assert (await client.get("/api/v1/instruments?page=2&page_size=4")).status_code == 200
    response = await client.get("/api/v1/instruments?page=3&page_size=4")
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}
    huge = await client.get("/api/v1/instruments?page=99999999999999999999")
    assert huge.status_code in (400, 404)
