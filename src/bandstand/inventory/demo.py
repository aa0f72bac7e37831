"""The demo catalogue: thirty movies written for Bandstand, shipped in the package and
loaded through the same service as the API.

Idempotent: a movie is matched by its title, so a second run creates nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.inventory.schemas import MovieCreate
from bandstand.inventory.service import movie_service


def demo_movies() -> list[MovieCreate]:
    """The movies of `demo/movies.json`, validated as an admin's input would be."""
    source = resources.files("bandstand.inventory").joinpath("demo", "movies.json")
    documents: list[dict[str, Any]] = json.loads(source.read_text(encoding="utf-8"))
    return [MovieCreate.model_validate(document) for document in documents]


async def seed_demo(session: AsyncSession, progress: Callable[[int], None] | None = None) -> int:
    """Add the demo movies that are not there yet; the number created. `progress(1)` is called
    for each movie done, created or found. The caller commits."""
    created = 0
    for data in demo_movies():
        if await movie_service.movies.by_title(session, data.title) is None:
            await movie_service.create(session, data, actor_id=None)
            created += 1
        if progress is not None:
            progress(1)
    return created
