"""Inventory's test fixtures: the service harness with tokens for an admin and a user, and
helpers to store movies and look at what was stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert

import bandstand.inventory
from bandstand.inventory.app import create_app
from bandstand.inventory.models import InventoryBase, Movie, MovieGenre
from bandstand.platform.clock import utcnow
from bandstand.platform.messaging.outbox import outbox_table
from bandstand.platform.text_search import normalize
from tests.support.harness import Headers, ServiceHarness

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


class Inventory(ServiceHarness):
    """The running inventory app, its database, and tokens for an admin and a user."""

    name = "inventory"
    app_factory = create_app
    migrations = MIGRATIONS
    metadata = InventoryBase.metadata
    users = {"admin": (ADMIN_ID, "admin"), "user": (USER_ID, "user")}
    admin: Headers
    user: Headers

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

    async def count(self, model: Any = Movie) -> int:
        return await super().count(model)

    async def snapshot(self, *models: Any) -> dict[str, list[dict[str, Any]]]:
        """Every stored row of inventory's tables and the number of outbox rows, for "nothing
        changed" assertions."""
        snapshot = await super().snapshot(*(models or (Movie, MovieGenre)))
        snapshot["outbox"] = [{"count": await self.count(outbox_table)}]
        return snapshot


inventory_database_url, inventory_settings, inventory, client = Inventory.fixtures()
running_inventory = Inventory.running
