"""A service's write generation: what makes a write visible to the next read of a cached answer.

The generation is a token in the platform cache (shared by every process when the cache is
Redis) that each committed write to the service's own tables replaces, right after the commit
and before the response (`Database.after_commit_of`). A cached answer records the generation it
was computed at and is answered only while that is still the current one, so after a write the
next read, in any process, computes afresh. The kernel's own bookkeeping (the outbox and the
record of processed messages) moves nothing.

A token rather than a counter: a generation evicted from the cache and written again can never
take a value an old answer recorded. A cache that fails to store a new generation is logged:
answers may then be served until their own expiry, as without this.
"""

from __future__ import annotations

import logging
import uuid

from bandstand.platform.cache import Cache
from bandstand.platform.database import Database

logger = logging.getLogger(__name__)

GENERATION_TTL = 30 * 24 * 3600.0
INITIAL = "0"
BOOKKEEPING_TABLES = frozenset({"outbox", "processed_messages"})
"""Written by the relay and the consumers for themselves: no answer of the service shows them."""


class WriteGeneration:
    def __init__(self, cache: Cache, service: str) -> None:
        self.cache = cache
        self.key = f"generation:{service}"

    async def current(self) -> str:
        return await self.cache.get(self.key) or INITIAL

    async def current_and(self, key: str) -> tuple[str, str | None]:
        """The current generation and the cached value under `key`, in one round trip."""
        generation, value = await self.cache.get_many(self.key, key)
        return generation or INITIAL, value

    async def advance(self) -> None:
        try:
            await self.cache.set(self.key, uuid.uuid4().hex, ttl=GENERATION_TTL)
        except Exception as exc:
            logger.warning("write generation of %s not moved, cache unavailable: %s", self.key, exc)

    def follow(self, database: Database) -> None:
        """Advance after every committed transaction that wrote the service's own tables."""
        database.after_commit_of(None, self.advance, ignored=BOOKKEEPING_TABLES)
