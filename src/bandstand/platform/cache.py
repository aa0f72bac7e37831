"""A small key-value cache: in memory by default, Redis by URL.

The Redis cache degrades instead of failing: while Redis is unreachable, reads miss, writes and
counters fall back to this process's memory, and the outage is logged once. The writes and
deletions made meanwhile are written to Redis once it answers again (a token revoked, or a
cached answer dropped, during the outage stays so); counters are not, they restart.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Protocol

logger = logging.getLogger("bandstand.cache")

MAX_MISSED_WRITES = 10_000
"""Writes kept for Redis while it is away, at most."""


class Cache(Protocol):
    async def get(self, key: str) -> str | None: ...

    async def get_many(self, *keys: str) -> list[str | None]:
        """The values of `keys` in order, in one round trip."""
        ...

    async def set(self, key: str, value: str, ttl: float | None = None) -> None: ...

    async def delete(self, *keys: str) -> None: ...

    async def incr(self, key: str, ttl: float) -> tuple[int, float]:
        """Add one to a counter that expires `ttl` seconds after its first increment.

        Returns the new value and the seconds left before it expires."""
        ...

    async def ttl(self, key: str) -> float | None:
        """Seconds before `key` expires; None when it is missing or never expires."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


class MemoryCache:
    """A per-process cache with expiry; the default of embedded mode."""

    def __init__(self, max_entries: int = 100_000) -> None:
        self._data: dict[str, tuple[str, float | None]] = {}
        self._max_entries = max_entries

    def _live(self, key: str) -> tuple[str, float | None] | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        expires = entry[1]
        if expires is not None and expires <= time.monotonic():
            del self._data[key]
            return None
        return entry

    async def get(self, key: str) -> str | None:
        entry = self._live(key)
        return entry[0] if entry else None

    async def get_many(self, *keys: str) -> list[str | None]:
        return [await self.get(key) for key in keys]

    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        if len(self._data) >= self._max_entries:
            self._evict()
        expires = time.monotonic() + ttl if ttl is not None else None
        self._data[key] = (value, expires)

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self._data.pop(key, None)

    async def incr(self, key: str, ttl: float) -> tuple[int, float]:
        now = time.monotonic()
        entry = self._live(key)
        if entry is None:
            self._data[key] = ("1", now + ttl)
            return 1, ttl
        value, expires = int(entry[0]) + 1, entry[1]
        self._data[key] = (str(value), expires)
        return value, (expires - now) if expires is not None else ttl

    async def ttl(self, key: str) -> float | None:
        entry = self._live(key)
        if entry is None or entry[1] is None:
            return None
        return entry[1] - time.monotonic()

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._data.clear()

    def _evict(self) -> None:
        now = time.monotonic()
        expired = [k for k, (_, exp) in self._data.items() if exp is not None and exp <= now]
        for key in expired:
            del self._data[key]
        if len(self._data) >= self._max_entries:
            for key in list(self._data)[: self._max_entries // 10]:
                del self._data[key]


class CacheUnavailable(ConnectionError):
    """The cache server cannot be reached."""


class RedisCache:
    """Redis-backed cache shared by every process; falls back to memory while Redis is down."""

    def __init__(self, url: str, *, timeout: float = 0.5) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            health_check_interval=30,
        )
        self._fallback = MemoryCache()
        self._down = False
        # Writes (a value, or None for a deletion) Redis missed while it was away, with their
        # expiry on the monotonic clock, to apply once it is back.
        self._missed: dict[str, tuple[str | None, float | None]] = {}
        self._catching_up = asyncio.Lock()

    def _failed(self, exc: Exception) -> None:
        if not self._down:
            logger.warning("redis unavailable, degrading to per-process cache: %s", exc)
        self._down = True

    def _recovered(self) -> None:
        if self._down:
            logger.info("redis is reachable again")
        self._down = False

    def _miss(self, key: str, value: str | None, ttl: float | None) -> None:
        if len(self._missed) >= MAX_MISSED_WRITES and key not in self._missed:
            return  # a long outage: the oldest missed writes are kept, the rest expire locally
        self._missed[key] = (value, time.monotonic() + ttl if ttl is not None else None)

    async def _catch_up(self) -> None:
        """Apply the writes Redis missed; what fails again waits for the next success."""
        from redis.exceptions import RedisError

        missed, self._missed = self._missed, {}
        now = time.monotonic()
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key, (value, expires) in missed.items():
                    if value is None:
                        pipe.delete(key)
                    elif expires is None:
                        pipe.set(key, value)
                    elif expires > now:
                        pipe.set(key, value, px=max(1, int((expires - now) * 1000)))
                await pipe.execute()
        except (RedisError, OSError) as exc:
            self._failed(exc)
            self._missed = {**missed, **self._missed}
            return
        self._recovered()
        logger.info("redis caught up on %d writes made while it was away", len(missed))

    async def _ready(self) -> bool:
        """Whether to ask Redis: yes, once it has caught up on what it missed (before anything
        is read from it, so a revocation made during the outage is never read as missing)."""
        if not self._missed and not self._catching_up.locked():
            return True
        async with self._catching_up:
            if self._missed:
                await self._catch_up()
        return not self._missed

    async def get(self, key: str) -> str | None:
        from redis.exceptions import RedisError

        if not await self._ready():
            return await self._fallback.get(key)
        try:
            value = await self._redis.get(key)
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return await self._fallback.get(key)
        self._recovered()
        return value if value is None else str(value)

    async def get_many(self, *keys: str) -> list[str | None]:
        from redis.exceptions import RedisError

        if not await self._ready():
            return await self._fallback.get_many(*keys)
        try:
            values = await self._redis.mget(keys)
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return await self._fallback.get_many(*keys)
        self._recovered()
        return [value if value is None else str(value) for value in values]

    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        from redis.exceptions import RedisError

        await self._fallback.set(key, value, ttl)
        if not await self._ready():
            self._miss(key, value, ttl)
            return
        try:
            if ttl is not None:
                await self._redis.set(key, value, px=max(1, int(ttl * 1000)))
            else:
                await self._redis.set(key, value)
        except (RedisError, OSError) as exc:
            self._failed(exc)
            self._miss(key, value, ttl)
            return
        self._recovered()

    async def delete(self, *keys: str) -> None:
        from redis.exceptions import RedisError

        await self._fallback.delete(*keys)
        if not keys:
            return
        if not await self._ready():
            for key in keys:
                self._miss(key, None, None)
            return
        try:
            await self._redis.delete(*keys)
        except (RedisError, OSError) as exc:
            self._failed(exc)
            for key in keys:
                self._miss(key, None, None)
            return
        self._recovered()

    async def incr(self, key: str, ttl: float) -> tuple[int, float]:
        from redis.exceptions import RedisError

        if not await self._ready():
            return await self._fallback.incr(key, ttl)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.pexpire(key, max(1, int(ttl * 1000)), nx=True)
                pipe.pttl(key)
                value, _, remaining_ms = await pipe.execute()
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return await self._fallback.incr(key, ttl)
        self._recovered()
        remaining = remaining_ms / 1000 if remaining_ms and remaining_ms > 0 else ttl
        return int(value), remaining

    async def ttl(self, key: str) -> float | None:
        from redis.exceptions import RedisError

        if not await self._ready():
            return await self._fallback.ttl(key)
        try:
            remaining_ms = await self._redis.pttl(key)
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return await self._fallback.ttl(key)
        self._recovered()
        return remaining_ms / 1000 if remaining_ms and remaining_ms > 0 else None

    async def ping(self) -> None:
        from redis.exceptions import RedisError

        try:
            await self._redis.ping()
        except (RedisError, OSError) as exc:
            self._failed(exc)
            raise CacheUnavailable(f"redis unreachable: {exc}") from exc
        self._recovered()

    async def close(self) -> None:
        await self._redis.aclose()


def create_cache(url: str) -> Cache:
    if url.startswith("memory://") or not url:
        return MemoryCache()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisCache(url)
    raise ValueError(f"unsupported cache URL {url!r}: use memory:// or redis://")
