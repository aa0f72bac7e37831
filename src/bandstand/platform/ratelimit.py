"""Fixed-window rate limits on top of the platform cache (shared through Redis when configured)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bandstand.platform.cache import Cache
from bandstand.platform.errors import RateLimited


@dataclass(frozen=True)
class Limit:
    count: int
    window_seconds: float


class RateLimiter:
    def __init__(self, cache: Cache, namespace: str = "ratelimit") -> None:
        self._cache = cache
        self._namespace = namespace

    def _key(self, key: str) -> str:
        return f"{self._namespace}:{key}"

    async def ensure_allowed(self, key: str, limit: Limit) -> None:
        """Raise `RateLimited` when `key` already used up `limit` in the current window."""
        used = await self._cache.get(self._key(key))
        if used is not None and int(used) >= limit.count:
            retry_after = await self._retry_after(key, limit)
            raise RateLimited(retry_after, "Too many attempts, try again later")

    async def hit(self, key: str, limit: Limit) -> int:
        """Count one use of `key`; returns how many uses are left in the window."""
        used, _ = await self._cache.incr(self._key(key), limit.window_seconds)
        return max(0, limit.count - used)

    async def reset(self, key: str) -> None:
        await self._cache.delete(self._key(key))

    async def _retry_after(self, key: str, limit: Limit) -> int:
        remaining = await self._cache.ttl(self._key(key))
        return max(1, math.ceil(remaining if remaining is not None else limit.window_seconds))
