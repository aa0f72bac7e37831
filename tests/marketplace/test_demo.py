"""The demo listings: varied, valid by the import's rules, loaded once through the import, and
found by search and filters."""

from __future__ import annotations

from collections import Counter
from datetime import date

import httpx

from bandstand.marketplace.demo import LISTINGS, catalogue, demo_rows, image_url, seed_demo
from bandstand.marketplace.imports.importer import listing_of
from bandstand.web.media import INSTRUMENTS
from tests.marketplace.conftest import Marketplace


def test_the_demo_rows_are_varied_and_the_same_every_time() -> None:
    rows = list(demo_rows())
    assert rows == list(demo_rows())
    assert len(rows) == LISTINGS >= 300
    assert len({row["link"] for row in rows}) == LISTINGS
    listings = [listing_of(dict(row)) for row in rows]  # raises on a row the import refuses
    assert len(Counter(row["category"] for row in rows)) == len(catalogue().categories) >= 10
    assert len({row["location"] for row in rows}) >= 15
    assert len({row["website"] for row in rows}) >= 5
    assert len({row["publish"] for row in rows}) >= 100
    prices = [listing["price"] for listing in listings if listing["price"] is not None]
    assert min(prices) < 100 < 2000 < max(prices)
    assert any(row["name"].startswith("Guitarra española Yamaha C40") for row in rows)
    assert any(not row["name"].startswith(("Guitarra", "Bajo", "Violín")) for row in rows)
    today = date(2026, 12, 4)
    live = [row for row in rows if row["expiration"] is None or row["expiration"] >= str(today)]
    assert len(live) > 0.9 * LISTINGS


def test_every_category_has_its_demo_picture() -> None:
    for category in catalogue().categories:
        name = image_url(category).removeprefix("/media/demo/pictures/").removesuffix(".svg")
        assert name in INSTRUMENTS, category


async def test_seeding_twice_imports_the_listings_once(
    marketplace: Marketplace, client: httpx.AsyncClient
) -> None:
    steps: list[int] = []
    async with marketplace.session() as session:
        assert await seed_demo(session, steps.append) == LISTINGS
    assert sum(steps) == LISTINGS
    async with marketplace.session() as session:
        assert await seed_demo(session) == 0
    assert await marketplace.count() == LISTINGS
    (imported,) = await marketplace.outbox("marketplace.instruments.imported")
    assert imported["payload"]["inserted"] == LISTINGS

    found = await client.get("/api/v1/instruments", params={"search": "yamaha"})
    assert found.status_code == 200
    assert found.json()["count"] > 5
    assert all("yamaha" in item["name"].lower() for item in found.json()["results"])
    guitars = await client.get("/listInstrument", params={"category": "guitarras"})
    assert guitars.json()["count"] > 10
    categories = (await client.get("/api/v1/instruments/categories")).json()["results"]
    assert len(categories) == len(catalogue().categories)
