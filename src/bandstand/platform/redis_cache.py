"""The cache in Redis: one store for every process (`platform.cache` has the interface and the
in-memory store). Its reads (`get`, `get_many`) go through one pipelined connection
(`platform.redis_reads`) where the URL allows, everything else through redis-py.

It degrades instead of failing: while Redis is unreachable, reads miss, writes and counters fall
back to this process's memory, and the outage is logged once. The writes and deletions made
meanwhile are written to Redis once it answers again (a token revoked, or a cached answer
dropped, during the outage stays so); counters are not, they restart.
"""

from __future__ import annotations

import asyncio
import logging
import time

from bandstand.platform.cache import CacheUnavailable, MemoryCache
from bandstand.platform.redis_reads import PipelinedReader

logger = logging.getLogger("bandstand.cache")

MAX_MISSED_WRITES = 10_000
"""Writes kept for Redis while it is away, at most."""


class RedisCache:
    """Redis-backed store shared by every process; falls back to memory while Redis is down.

    `prefix` is put before every key in Redis (the security store's keys have their own);
    `fallback` is the in-memory store used meanwhile (by default a bounded cache)."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 0.5,
        prefix: str = "",
        fallback: MemoryCache | None = None,
    ) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            health_check_interval=30,
        )
        self._prefix = prefix
        self._reads = PipelinedReader.from_url(url, timeout=timeout)
        self._fallback = fallback if fallback is not None else MemoryCache()
        self._down = False
        # Writes (a value, or None for a deletion) Redis missed while it was away, with their
        # expiry on the monotonic clock, to apply once it is back.
        self._missed: dict[str, tuple[str | None, float | None]] = {}
        self._catching_up = asyncio.Lock()

    @property
    def degraded(self) -> bool:
        return self._down

    def _k(self, key: str) -> str:
        return self._prefix + key

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
                        pipe.delete(self._k(key))
                    elif expires is None:
                        pipe.set(self._k(key), value)
                    elif expires > now:
                        pipe.set(self._k(key), value, px=max(1, int((expires - now) * 1000)))
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
            stored = self._k(key)
            value = await (self._reads.get(stored) if self._reads else self._redis.get(stored))
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
            prefixed = [self._k(key) for key in keys]
            values = await (
                self._reads.mget(prefixed) if self._reads else self._redis.mget(prefixed)
            )
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
                await self._redis.set(self._k(key), value, px=max(1, int(ttl * 1000)))
            else:
                await self._redis.set(self._k(key), value)
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
            await self._redis.delete(*(self._k(key) for key in keys))
        except (RedisError, OSError) as exc:
            self._failed(exc)
            for key in keys:
                self._miss(key, None, None)
            return
        self._recovered()

    async def incr(self, key: str, ttl: float, amount: int = 1) -> tuple[int, float]:
        from redis.exceptions import RedisError

        if not await self._ready():
            return await self._fallback.incr(key, ttl, amount)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incrby(self._k(key), amount)
                pipe.pexpire(self._k(key), max(1, int(ttl * 1000)), nx=True)
                pipe.pttl(self._k(key))
                value, _, remaining_ms = await pipe.execute()
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return await self._fallback.incr(key, ttl, amount)
        self._recovered()
        remaining = remaining_ms / 1000 if remaining_ms and remaining_ms > 0 else ttl
        return int(value), remaining

    async def ttl(self, key: str) -> float | None:
        from redis.exceptions import RedisError

        if not await self._ready():
            return await self._fallback.ttl(key)
        try:
            remaining_ms = await self._redis.pttl(self._k(key))
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return await self._fallback.ttl(key)
        self._recovered()
        return remaining_ms / 1000 if remaining_ms and remaining_ms > 0 else None

    async def eviction_policy(self) -> str | None:
        """The server's `maxmemory-policy` when it may evict keys (a `maxmemory` is set and the
        policy is not `noeviction`); None when it never evicts or cannot be asked."""
        from redis.exceptions import RedisError

        try:
            info = await self._redis.info("memory")
        except (RedisError, OSError):
            return None
        policy = str(info.get("maxmemory_policy", "noeviction"))
        return policy if int(info.get("maxmemory") or 0) and policy != "noeviction" else None

    async def ping(self) -> None:
        from redis.exceptions import RedisError

        try:
            await self._redis.ping()
        except (RedisError, OSError) as exc:
            self._failed(exc)
            raise CacheUnavailable(f"redis unreachable: {exc}") from exc
        self._recovered()

    async def close(self) -> None:
        if self._reads is not None:
            await self._reads.close()
        await self._redis.aclose()
