"""Fixed-window rate limits in the platform's security store (shared through Redis when
configured, never evicted before the window ends).

`reserve` counts an attempt before the work it guards and refuses it once the window is used
up, in one atomic step: concurrent attempts cannot all pass a check made before any of them is
counted. An attempt that turns out not to count (a successful login) gives its slot back with
`release`, or clears the key with `reset`."""

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
    def __init__(self, store: Cache, namespace: str = "ratelimit") -> None:
        self._cache = store
        self._namespace = namespace

    def _key(self, key: str) -> str:
        return f"{self._namespace}:{key}"

    async def ensure_allowed(self, key: str, limit: Limit) -> None:
        """Raise `RateLimited` when `key` already used up `limit` in the current window."""
        used = await self._cache.get(self._key(key))
        if used is not None and int(used) >= limit.count:
            retry_after = await self._retry_after(key, limit)
            raise RateLimited(retry_after, "Too many attempts, try again later")

    async def reserve(self, key: str, limit: Limit) -> int:
        """Count one attempt of `key`, or raise `RateLimited` when the window has no slot left.

        Returns the attempts counted in the window, this one included."""
        used, remaining = await self._cache.incr(self._key(key), limit.window_seconds)
        if used > limit.count:
            raise RateLimited(math.ceil(remaining), "Too many attempts, try again later")
        return used

    async def release(self, key: str, limit: Limit) -> None:
        """Give back a slot `reserve` took."""
        await self._cache.incr(self._key(key), limit.window_seconds, -1)

    async def record(self, key: str, window_seconds: float) -> int:
        """Count one event of `key` in a window that never refuses; returns the count so far."""
        used, _ = await self._cache.incr(self._key(key), window_seconds)
        return used

    async def hit(self, key: str, limit: Limit) -> int:
        """Count one use of `key`; returns how many uses are left in the window."""
        used, _ = await self._cache.incr(self._key(key), limit.window_seconds)
        return max(0, limit.count - used)

    async def reset(self, key: str) -> None:
        await self._cache.delete(self._key(key))

    async def _retry_after(self, key: str, limit: Limit) -> int:
        remaining = await self._cache.ttl(self._key(key))
        return max(1, math.ceil(remaining if remaining is not None else limit.window_seconds))
