"""Marketplace's test fixtures: an empty migrated database per test on each engine, the app with
its lifespan running, tokens signed as identity signs them, and helpers to store listings."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

import bandstand.marketplace
from bandstand.marketplace.app import create_app
from bandstand.marketplace.counting import ListingCounter
from bandstand.marketplace.models import Instrument, MarketplaceBase
from bandstand.platform.database import Database
from bandstand.platform.runtime import Runtime
from bandstand.platform.settings import Settings
from tests.support.client import api_client
from tests.support.databases import MigratedDatabases
from tests.support.outbox import outbox_events
from tests.support.tokens import TokenFactory

_LINKS = itertools.count(1)
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


class Marketplace:
    """The running marketplace app, its database, and tokens for an admin and a user."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient, tokens: TokenFactory) -> None:
        self.app = app
        self.client = client
        self.tokens = tokens
        self.admin = tokens.headers(user_id=ADMIN_ID, role="admin")
        self.alice = tokens.headers(user_id=ALICE_ID)

    @property
    def database(self) -> Database:
        database: Database = self.app.state.database
        return database

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
        async with self.database.session() as session, session.begin():
            for instrument in instruments:
                session.add(instrument)
                await session.flush()
            return [instrument.id for instrument in instruments]

    def use_counter(self, *, ttl: float = 30.0, anchor_every: int = 4) -> ListingCounter:
        """Reuse counts and page anchors (every `anchor_every` listings) for `ttl` seconds."""
        runtime: Runtime = self.app.state.runtime
        counter = ListingCounter(runtime.cache, ttl, anchor_every=anchor_every)
        self.app.state.listing_counter = counter
        return counter

    async def count(self) -> int:
        async with self.database.session() as session:
            statement = select(func.count()).select_from(Instrument)
            return int((await session.execute(statement)).scalar_one())

    async def snapshot(self) -> list[dict[str, Any]]:
        async with self.database.session() as session:
            rows = (await session.execute(select(Instrument).order_by(Instrument.id))).scalars()
            return [
                {column.key: getattr(row, column.key) for column in Instrument.__table__.columns}
                for row in rows.all()
            ]

    async def outbox(self, prefix: str = "marketplace.") -> list[dict[str, Any]]:
        messages = await outbox_events(self.database, prefix)
        assert all(message["source"] == "marketplace" for message in messages)
        return messages


@pytest.fixture
async def marketplace_database_url(
    engine: str, migrated_databases: MigratedDatabases, tmp_path: Path
) -> str:
    return await migrated_databases.fresh(
        engine, "marketplace", MIGRATIONS, MarketplaceBase.metadata, tmp_path
    )


@pytest.fixture
def marketplace_settings(
    make_settings: Callable[..., Settings], marketplace_database_url: str
) -> Settings:
    # Counts are recounted every time, as tests write straight to the database; the reuse of
    # counts and anchors has its own tests (`use_counter`).
    return make_settings(
        databases={"marketplace": marketplace_database_url}, list_count_cache_seconds=0
    )


@asynccontextmanager
async def running_marketplace(
    settings: Settings, tokens: TokenFactory
) -> AsyncIterator[Marketplace]:
    app = create_app(Runtime(settings, jwks_fetch=tokens.jwks))
    async with api_client(app, raise_app_exceptions=False) as client:
        yield Marketplace(app, client, tokens)


@pytest.fixture
async def marketplace(
    marketplace_settings: Settings,
) -> AsyncIterator[Marketplace]:
    async with running_marketplace(marketplace_settings, TokenFactory()) as harness:
        yield harness


@pytest.fixture
def client(marketplace: Marketplace) -> httpx.AsyncClient:
    return marketplace.client
