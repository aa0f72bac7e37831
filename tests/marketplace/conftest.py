"""Marketplace's test fixtures: the service harness with tokens for an admin and a user, and
helpers to store listings."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import bandstand.marketplace
from bandstand.marketplace import listing_index, service
from bandstand.marketplace.app import create_app
from bandstand.marketplace.counting import ListingCounter
from bandstand.marketplace.models import Instrument, MarketplaceBase
from tests.support.harness import Headers, ServiceHarness

_LINKS = itertools.count(1)
COLLECTED = datetime.now(UTC)
"""When the tests were collected: the day the modules' dates (`TODAY`, `YESTERDAY`) were taken."""
MIGRATIONS = Path(bandstand.marketplace.__file__).parent / "migrations"
ADMIN_ID = 1
ALICE_ID = 2

INSTRUMENT = {
    "name": "Guitarra Clásica Alhambra 4P",
    "price": "450.00",
    "link": "https://www.milanuncios.com/guitarras/alhambra-4p-1.htm",
    "image": "https://img.milanuncios.com/alhambra.jpg",
    "location": "Málaga",
    "category": "Guitarras",
    "expiration": "2099-01-31",
    "publish": "2026-11-02",
    "website": "milanuncios.com",
}


@pytest.fixture(autouse=True)
def _searches_on_the_collection_day(monkeypatch: pytest.MonkeyPatch) -> None:
    """A run that crosses midnight UTC still hides and shows listings as of the day its data was
    written for: the service's and the index's clock keep running, on the collection's date."""

    def same_day() -> datetime:
        now = datetime.now(UTC)
        return now - timedelta(days=(now.date() - COLLECTED.date()).days)

    monkeypatch.setattr(service, "utcnow", same_day)
    monkeypatch.setattr(listing_index, "utcnow", same_day)


class Marketplace(ServiceHarness):
    """The running marketplace app, its database, and tokens for an admin and a user."""

    name = "marketplace"
    app_factory = create_app
    migrations = MIGRATIONS
    metadata = MarketplaceBase.metadata
    users = {"admin": (ADMIN_ID, "admin"), "alice": (ALICE_ID, "user")}
    # Counts are recounted every time, as tests write straight to the database; the reuse of
    # counts and anchors has its own tests (`use_counter`).
    settings_overrides = {"list_count_cache_seconds": 0}
    admin: Headers
    alice: Headers

    async def add(self, name: str = "Fender Stratocaster", **fields: Any) -> int:
        """Store a listing directly (no request, no event); its id."""
        (stored,) = await self.add_many([{"name": name, **fields}])
        return stored

    async def add_many(self, rows: list[dict[str, Any]]) -> list[int]:
        """Store listings in one transaction, in order; their ids."""
        now = datetime.now(UTC)
        instruments = []
        for row in rows:
            values: dict[str, Any] = {
                "link": f"https://example.com/{next(_LINKS)}",
                "website": "example.com",
                **row,
            }
            for key in ("expiration", "publish"):
                if isinstance(values.get(key), str):
                    values[key] = date.fromisoformat(values[key])
            if isinstance(values.get("price"), str | int | float):
                values["price"] = Decimal(str(values["price"]))
            instruments.append(Instrument(created_at=now, updated_at=now, **values))
        async with self.session() as session:
            for instrument in instruments:
                session.add(instrument)
                await session.flush()
            return [instrument.id for instrument in instruments]

    def use_counter(self, *, ttl: float = 30.0, anchor_every: int = 4) -> ListingCounter:
        """Reuse counts and page anchors (every `anchor_every` listings) for `ttl` seconds."""
        counter = ListingCounter(self.app.state.write_generation, ttl, anchor_every=anchor_every)
        self.app.state.listing_counter = counter
        return counter

    async def count(self, model: Any = Instrument) -> int:
        return await super().count(model)

    async def snapshot(self, *models: Any) -> list[dict[str, Any]]:  # type: ignore[override]
        return await self.rows(Instrument)


marketplace_database_url, marketplace_settings, marketplace, client = Marketplace.fixtures()
