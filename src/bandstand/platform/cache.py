"""A small key-value store: in memory by default, Redis by URL (`platform.redis_cache`).

Two of them serve a process (see `platform.runtime`): the cache of answers (response cache, list
counts, rankings), bounded by bytes and free to forget, and the security store (revoked tokens
and sessions, rate-limit counters), which never drops an entry before it expires, so no amount
of cached answers can bring a revoked token or a locked login back.
"""

from __future__ import annotations

import time
from typing import Protocol


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
        from bandstand.platform.redis_cache import RedisCache

        return RedisCache(url)
    raise _unsupported(url)


def create_security_store(url: str) -> Cache:
    """The store of revocations and rate-limit counters: never evicted before expiry in memory;
    in Redis under its own key prefix, with an unbounded in-memory fallback."""
    if url.startswith("memory://") or not url:
        return MemoryCache(max_bytes=None)
    if _is_redis(url):
        from bandstand.platform.redis_cache import RedisCache

        return RedisCache(url, prefix=SECURITY_PREFIX, fallback=MemoryCache(max_bytes=None))
    raise _unsupported(url)
