"""A small key-value store: in memory by default, Redis by URL.

Two of them serve a process (see `platform.runtime`): the cache of answers (response cache, list
counts, rankings), bounded by bytes and free to forget, and the security store (revoked tokens
and sessions, rate-limit counters), which never drops an entry before it expires, so no amount
of cached answers can bring a revoked token or a locked login back.

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
    @property
    def degraded(self) -> bool:
        """Whether values are read from a per-process fallback (a shared store unreachable):
        what other processes write is not seen meanwhile."""
        ...

    async def get(self, key: str) -> str | None: ...

    async def get_many(self, *keys: str) -> list[str | None]:
        """The values of `keys` in order, in one round trip."""
        ...

    async def set(self, key: str, value: str, ttl: float | None = None) -> None: ...

    async def delete(self, *keys: str) -> None: ...

    async def incr(self, key: str, ttl: float, amount: int = 1) -> tuple[int, float]:
        """Add `amount` to a counter that expires `ttl` seconds after its first increment.

        Returns the new value and the seconds left before it expires."""
        ...

    async def ttl(self, key: str) -> float | None:
        """Seconds before `key` expires; None when it is missing or never expires."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


ENTRY_OVERHEAD = 100
"""Bytes counted per in-memory entry beside its key and value (the dict slot, the tuple, ...)."""

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
MIN_SWEEP_ENTRIES = 1024


def _size(key: str, value: str) -> int:
    return len(key) + len(value) + ENTRY_OVERHEAD


class MemoryCache:
    """A per-process store with expiry; the default of embedded mode.

    With `max_bytes`, a cache: past that many bytes (counted as characters of keys and values
    plus `ENTRY_OVERHEAD` per entry) the expired entries go, then the oldest written, down to
    nine tenths of the bound. With `max_bytes=None`, a store that never drops a live entry:
    expired entries are swept whenever it has doubled since the last sweep."""

    degraded = False

    def __init__(self, max_bytes: int | None = DEFAULT_MAX_BYTES) -> None:
        self._data: dict[str, tuple[str, float | None]] = {}
        self._max_bytes = max_bytes
        self._bytes = 0
        self._sweep_at = MIN_SWEEP_ENTRIES

    @property
    def size_bytes(self) -> int:
        """The bytes its entries are counted as."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._data)

    def _drop(self, key: str) -> None:
        entry = self._data.pop(key, None)
        if entry is not None:
            self._bytes -= _size(key, entry[0])

    def _put(self, key: str, value: str, expires: float | None) -> None:
        self._drop(key)  # a rewritten entry counts as the newest
        self._data[key] = (value, expires)
        self._bytes += _size(key, value)
        self._make_room()

    def _live(self, key: str) -> tuple[str, float | None] | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        expires = entry[1]
        if expires is not None and expires <= time.monotonic():
            self._drop(key)
            return None
        return entry

    async def get(self, key: str) -> str | None:
        entry = self._live(key)
        return entry[0] if entry else None

    async def get_many(self, *keys: str) -> list[str | None]:
        return [await self.get(key) for key in keys]

    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        expires = time.monotonic() + ttl if ttl is not None else None
        self._put(key, value, expires)

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self._drop(key)

    async def incr(self, key: str, ttl: float, amount: int = 1) -> tuple[int, float]:
        now = time.monotonic()
        entry = self._live(key)
        if entry is None:
            self._put(key, str(amount), now + ttl)
            return amount, ttl
        value, expires = int(entry[0]) + amount, entry[1]
        self._bytes += len(str(value)) - len(entry[0])
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
        self._bytes = 0

    def _sweep_expired(self) -> None:
        now = time.monotonic()
        for key in [k for k, (_, exp) in self._data.items() if exp is not None and exp <= now]:
            self._drop(key)

    def _make_room(self) -> None:
        if self._max_bytes is None:
            if len(self._data) >= self._sweep_at:
                self._sweep_expired()
                self._sweep_at = max(MIN_SWEEP_ENTRIES, 2 * len(self._data))
            return
        if self._bytes <= self._max_bytes:
            return
        self._sweep_expired()
        target = self._max_bytes * 9 // 10
        while self._bytes > target and self._data:
            self._drop(next(iter(self._data)))


class CacheUnavailable(ConnectionError):
    """The cache server cannot be reached."""


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
            value = await self._redis.get(self._k(key))
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
            values = await self._redis.mget([self._k(key) for key in keys])
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
        await self._redis.aclose()


SECURITY_PREFIX = "security:"
"""Key prefix of the security store in Redis."""


def _is_redis(url: str) -> bool:
    return url.startswith(("redis://", "rediss://", "unix://"))


def is_shared(url: str) -> bool:
    """Whether the cache at `url` is one store for every process (Redis), not one per process."""
    return _is_redis(url)


def _unsupported(url: str) -> ValueError:
    return ValueError(f"unsupported cache URL {url!r}: use memory:// or redis://")


def create_cache(url: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Cache:
    """The cache of answers; in memory it holds at most `max_bytes`."""
    if url.startswith("memory://") or not url:
        return MemoryCache(max_bytes)
    if _is_redis(url):
        return RedisCache(url)
    raise _unsupported(url)


def create_security_store(url: str) -> Cache:
    """The store of revocations and rate-limit counters: never evicted before expiry in memory;
    in Redis under its own key prefix, with an unbounded in-memory fallback."""
    if url.startswith("memory://") or not url:
        return MemoryCache(max_bytes=None)
    if _is_redis(url):
        return RedisCache(url, prefix=SECURITY_PREFIX, fallback=MemoryCache(max_bytes=None))
    raise _unsupported(url)
