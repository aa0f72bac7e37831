"""Events the inventory service publishes, through the outbox in the business transaction.
Inventory consumes none: it holds no user data, so `identity.user.deleted` asks nothing of it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.inventory.models import Movie
from bandstand.platform.messaging import publish_event

SOURCE = "inventory"
MOVIE_CREATED = "inventory.movie.created"
MOVIE_UPDATED = "inventory.movie.updated"
MOVIE_DELETED = "inventory.movie.deleted"
MOVIES_CLEARED = "inventory.movies.cleared"


async def movie_created(session: AsyncSession, movie: Movie, actor_id: int | None) -> None:
    payload = {"movie_id": movie.id, "title": movie.title, "actor_id": actor_id}
    await publish_event(session, MOVIE_CREATED, payload, source=SOURCE)


async def movie_updated(
    session: AsyncSession, movie: Movie, changed: Sequence[str], actor_id: int | None
) -> None:
    payload = {
        "movie_id": movie.id,
        "title": movie.title,
        "changed": list(changed),
        "actor_id": actor_id,
    }
    await publish_event(session, MOVIE_UPDATED, payload, source=SOURCE)


async def movie_deleted(
    session: AsyncSession, movie_id: int, title: str, actor_id: int | None
) -> None:
    payload = {"movie_id": movie_id, "title": title, "actor_id": actor_id}
    await publish_event(session, MOVIE_DELETED, payload, source=SOURCE)


async def movies_cleared(session: AsyncSession, deleted: int, actor_id: int | None) -> None:
    payload = {"deleted": deleted, "actor_id": actor_id}
    await publish_event(session, MOVIES_CLEARED, payload, source=SOURCE)
