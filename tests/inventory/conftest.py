"""Inventory's test fixtures: an empty migrated database per test on each engine, the app with
its lifespan running, tokens for an admin and two users signed as identity signs them, and
helpers to store movies and look at what was stored."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

import bandstand.inventory
from bandstand.inventory.app import create_app
from bandstand.inventory.models import InventoryBase, Movie, MovieGenre, utcnow
from bandstand.platform.database import Database
from bandstand.platform.messaging.outbox import outbox_table
from bandstand.platform.runtime import Runtime
from bandstand.platform.settings import Settings
from bandstand.platform.text_search import normalize
from tests.support.client import api_client
from tests.support.databases import MigratedDatabases
from tests.support.outbox import outbox_events
from tests.support.tokens import TokenFactory

MIGRATIONS = Path(bandstand.inventory.__file__).parent / "migrations"
ADMIN_ID = 1
USER_ID = 7


def movie_body(number: int = 1, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": f"Movie {number}",
        "description": f"The story of movie {number}.",
        "release_year": 2000 + number % 25,
        "genres": ["Drama"],
        "duration_minutes": 90 + number,
    }
    body.update(overrides)
    return body


def names_field(body: dict[str, Any], field: str) -> bool:
    """Whether an error body names `field`, in its locations or its text."""
    detail = body.get("detail")
    if isinstance(detail, list):
        return any(field in [str(part) for part in error["loc"]] for error in detail)
    return field in str(detail)


class Inventory:
    """The running inventory app, its database, and tokens for an admin and a user."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient, tokens: TokenFactory) -> None:
        self.app = app
        self.client = client
        self.tokens = tokens
        self.admin = tokens.headers(user_id=ADMIN_ID, role="admin")
        self.user = tokens.headers(user_id=USER_ID)

    @property
    def database(self) -> Database:
        database: Database = self.app.state.database
        return database

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.database.session() as session, session.begin():
            yield session

    async def add_movie(self, number: int = 1, **overrides: Any) -> dict[str, Any]:
        """Create a movie through the canonical API (as an admin); its body."""
        response = await self.client.post(
            "/api/v1/movies", json=movie_body(number, **overrides), headers=self.admin
        )
        assert response.status_code == 201, response.text
        movie: dict[str, Any] = response.json()
        return movie

    async def insert_movies(self, rows: list[dict[str, Any]]) -> list[int]:
        """Store movies directly (no request, no event): `movie_body` fields plus any column."""
        now = utcnow()
        ids = []
        async with self.session() as session:
            for number, overrides in enumerate(rows):
                fields = {**movie_body(number), **overrides}
                genres = fields.pop("genres")
                movie = Movie(**fields, created_at=now, updated_at=now)
                session.add(movie)
                await session.flush()
                ids.append(movie.id)
                if genres:
                    await session.execute(
                        insert(MovieGenre),
                        [
                            {
                                "movie_id": movie.id,
                                "position": position,
                                "name": name,
                                "name_key": normalize(name),
                            }
                            for position, name in enumerate(genres)
                        ],
                    )
        return ids

    async def clear(self) -> None:
        """Delete every movie (their genres go with them) and every outbox row."""
        async with self.session() as session:
            await session.execute(delete(MovieGenre))
            await session.execute(delete(Movie))
            await session.execute(outbox_table.delete())

    async def count(self) -> int:
        async with self.database.session() as session:
            statement = select(func.count()).select_from(Movie)
            return int((await session.execute(statement)).scalar_one())

    async def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """Every stored row of inventory's tables, for "nothing changed" assertions."""
        snapshot: dict[str, list[dict[str, Any]]] = {}
        async with self.database.session() as session:
            for model in (Movie, MovieGenre):
                columns = list(model.__table__.columns)
                rows = await session.execute(select(*columns).order_by(*columns[:2]))
                snapshot[model.__tablename__] = [dict(row._mapping) for row in rows]
            outbox = await session.execute(select(func.count()).select_from(outbox_table))
            snapshot["outbox"] = [{"count": outbox.scalar_one()}]
        return snapshot

    async def outbox(self, prefix: str = "inventory.") -> list[dict[str, Any]]:
        """The decoded events in the outbox whose type starts with `prefix`, oldest first."""
        messages = await outbox_events(self.database, prefix)
        assert all(message["source"] == "inventory" for message in messages)
        return messages


@pytest.fixture
async def inventory_database_url(
    engine: str, migrated_databases: MigratedDatabases, tmp_path: Path
) -> str:
    """An empty, migrated inventory database on the engine under test."""
    return await migrated_databases.fresh(
        engine, "inventory", MIGRATIONS, InventoryBase.metadata, tmp_path
    )


@pytest.fixture
def inventory_settings(
    make_settings: Callable[..., Settings], inventory_database_url: str
) -> Settings:
    return make_settings(databases={"inventory": inventory_database_url})


@pytest.fixture
def tokens() -> TokenFactory:
    return TokenFactory()


@asynccontextmanager
async def running_inventory(settings: Settings, tokens: TokenFactory) -> AsyncIterator[Inventory]:
    app = create_app(Runtime(settings, jwks_fetch=tokens.jwks))
    async with api_client(app, raise_app_exceptions=False) as client:
        yield Inventory(app, client, tokens)


@pytest.fixture
async def inventory(inventory_settings: Settings, tokens: TokenFactory) -> AsyncIterator[Inventory]:
    async with running_inventory(inventory_settings, tokens) as harness:
        yield harness


@pytest.fixture
def client(inventory: Inventory) -> httpx.AsyncClient:
    return inventory.client
