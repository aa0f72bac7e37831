"""A service's write generation: what makes a write visible to the next read of a cached answer.

The generation is a token in the platform cache (shared by every process when the cache is
Redis) that each committed write to the service's own tables replaces, right after the commit
and before the response (`Database.after_commit_of`). A cached answer records the generation it
was computed at and is answered only while that is still the current one, so after a write the
next read, in any process, computes afresh. The kernel's own bookkeeping (the outbox and the
record of processed messages) moves nothing.

Without a shared cache (`memory://`, as in `bandstand up`), the token is kept on the data
directory's generation board instead (`platform.generation_board`): memory shared by every
process on that directory, so a worker's or a command's commits reach the app's cached answers.

A token rather than a counter: a generation evicted from the cache and written again can never
take a value an old answer recorded. A cache that fails to store a new generation is logged:
answers may then be served until their own expiry, as without this.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bandstand.platform.cache import Cache, create_cache, is_shared
from bandstand.platform.database import Database
from bandstand.platform.generation_board import GenerationBoard, board_of
from bandstand.platform.settings import Settings

logger = logging.getLogger(__name__)

GENERATION_TTL = 30 * 24 * 3600.0
INITIAL = "0"
BOOKKEEPING_TABLES = frozenset({"outbox", "processed_messages"})
"""Written by the relay and the consumers for themselves: no answer of the service shows them."""


class WriteGeneration:
    def __init__(self, cache: Cache, service: str, board: GenerationBoard | None = None) -> None:
        self.cache = cache
        self.service = service
        self.key = f"generation:{service}"
        self.board = board

    def _on_board(self) -> str:
        assert self.board is not None
        token = self.board.read(self.service)
        return f"{token:x}" if token else INITIAL

    async def current(self) -> str:
        if self.board is not None:
            return self._on_board()
        return await self.cache.get(self.key) or INITIAL

    async def current_everywhere(self) -> str | None:
        """The current generation when it tells of every process's commits; None while the
        shared cache is unreachable (each process then keeps its own, seeing its own commits
        only)."""
        generation = await self.current()
        if self.board is None and self.cache.degraded:
            return None
        return generation

    async def current_and(self, key: str) -> tuple[str, str | None]:
        """The current generation and the cached value under `key`, in one round trip."""
        if self.board is not None:
            return self._on_board(), await self.cache.get(key)
        generation, value = await self.cache.get_many(self.key, key)
        return generation or INITIAL, value

    async def advance(self) -> None:
        if self.board is not None:
            self.board.advance(self.service)
            return
        try:
            await self.cache.set(self.key, uuid.uuid4().hex, ttl=GENERATION_TTL)
        except Exception as exc:
            logger.warning("write generation of %s not moved, cache unavailable: %s", self.key, exc)

    def follow(self, database: Database) -> None:
        """Advance after every committed transaction that wrote the service's own tables."""
        database.after_commit_of(None, self.advance, ignored=BOOKKEEPING_TABLES)


def write_generation(settings: Settings, cache: Cache, service: str) -> WriteGeneration:
    """The service's generation: in the cache when every process shares it, otherwise on the
    board of the data directory, which every process of this machine using it shares."""
    if is_shared(settings.cache_url):
        return WriteGeneration(cache, service)
    return WriteGeneration(cache, service, board_of(settings.data_dir))


@asynccontextmanager
async def followed_database(settings: Settings, service: str) -> AsyncIterator[Database]:
    """The service's database for a command run beside the platform (`createsuperuser`,
    `seed`, `import`): its commits move the service's write generation, so the kept counts and
    cached answers of the processes serving it see them at their next read."""
    database = Database(settings.database_url(service))
    cache = create_cache(settings.cache_url, max_bytes=settings.cache_max_bytes)
    write_generation(settings, cache, service).follow(database)
    try:
        yield database
    finally:
        await database.dispose()
        await cache.close()
