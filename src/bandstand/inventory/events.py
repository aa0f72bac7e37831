"""Events the inventory service publishes, through the outbox in the business transaction.
Inventory consumes none: it holds no user data, so `identity.user.deleted` asks nothing of it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.inventory.models import Movie
from bandstand.platform.messaging import ResourceEvents, publish_event

SOURCE = "inventory"
MOVIES_CLEARED = "inventory.movies.cleared"


MOVIES = ResourceEvents[Movie](
    SOURCE, "movie", lambda movie: {"movie_id": movie.id, "title": movie.title}
)


async def movies_cleared(session: AsyncSession, deleted: int, actor_id: int | None) -> None:
    payload = {"deleted": deleted, "actor_id": actor_id}
    await publish_event(session, MOVIES_CLEARED, payload, source=SOURCE)
