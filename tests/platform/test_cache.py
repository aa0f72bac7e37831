"""The cache and rate limiter, on memory and on a real Redis server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bandstand.platform.cache import (
    MIN_SWEEP_ENTRIES,
    Cache,
    CacheUnavailable,
    MemoryCache,
    create_cache,
    create_security_store,
)
from bandstand.platform.errors import RateLimited
from bandstand.platform.ratelimit import Limit, RateLimiter
from bandstand.platform.redis_cache import RedisCache


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    if request.param == "memory":
        backend: Cache = MemoryCache()
    else:
        backend = create_cache(request.getfixturevalue("redis_url"))
    yield backend
    await backend.close()


async def test_get_set_delete(cache: Cache) -> None:
    assert await cache.get("missing") is None
    await cache.set("k", "v")
    assert await cache.get("k") == "v"
    await cache.delete("k", "other")
    assert await cache.get("k") is None


async def test_values_expire(cache: Cache) -> None:
    await cache.set("short", "v", ttl=0.2)
    assert await cache.get("short") == "v"
    remaining = await cache.ttl("short")
    assert remaining is not None
    assert 0 < remaining <= 0.2
    await asyncio.sleep(0.3)
    assert await cache.get("short") is None
    assert await cache.ttl("short") is None


async def test_counter_keeps_first_expiry(cache: Cache) -> None:
    assert (await cache.incr("c", 10))[0] == 1
    value, remaining = await cache.incr("c", 10)
    assert value == 2
    assert 0 < remaining <= 10


async def test_rate_limiter_blocks_after_limit_and_resets(cache: Cache) -> None:
    limiter = RateLimiter(cache)
    limit = Limit(3, 30)
    for left in (2, 1, 0):
        await limiter.ensure_allowed("login:ip:ada", limit)
        assert await limiter.hit("login:ip:ada", limit) == left
    with pytest.raises(RateLimited) as blocked:
        await limiter.ensure_allowed("login:ip:ada", limit)
    assert 1 <= int(blocked.value.headers["Retry-After"]) <= 30
    await limiter.ensure_allowed("login:ip:bob", limit)  # another key is unaffected
    await limiter.reset("login:ip:ada")
    await limiter.ensure_allowed("login:ip:ada", limit)


async def test_reserving_counts_first_so_a_burst_gets_only_the_limit(cache: Cache) -> None:
    limiter = RateLimiter(cache)
    limit = Limit(5, 30)

    async def attempt() -> int | None:
        try:
            await limiter.reserve("login:ip:ada", limit)
        except RateLimited as refused:
            return refused.retry_after
        return None

    outcomes = await asyncio.gather(*(attempt() for _ in range(20)))
    assert outcomes.count(None) == 5
    assert all(1 <= retry <= 30 for retry in outcomes if retry is not None)
    await limiter.reset("login:ip:ada")
    assert await limiter.reserve("login:ip:ada", limit) == 1
    await limiter.release("login:ip:ada", limit)
    assert await limiter.reserve("login:ip:ada", limit) == 1


def test_unknown_cache_url_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported cache URL"):
        create_cache("memcached://localhost")


async def test_memory_cache_is_bounded_by_bytes() -> None:
    cache = MemoryCache(max_bytes=10_000)
    for number in range(1_000):
        await cache.set(f"k{number}", "v" * 100)
    assert cache.size_bytes <= 10_000
    assert await cache.get("k999") == "v" * 100
    assert await cache.get("k0") is None
    # A rewritten entry counts as the newest, and its old size is not counted twice.
    await cache.set("k999", "w")
    assert await cache.get("k999") == "w"
    await cache.delete(*(f"k{number}" for number in range(1_000)))
    assert (len(cache), cache.size_bytes) == (0, 0)


async def test_the_security_store_keeps_every_live_entry_and_sweeps_expired_ones() -> None:
    store = create_security_store("memory://")
    assert isinstance(store, MemoryCache)
    await store.set("revoked-jti:early", "1", ttl=3600)
    for number in range(250_000):
        await store.set(f"k{number}", "1", ttl=3600)
    assert await store.get("revoked-jti:early") == "1"
    assert len(store) == 250_001

    expired = create_security_store("memory://")
    assert isinstance(expired, MemoryCache)
    for number in range(5_000):
        await expired.set(f"gone{number}", "1", ttl=-1)  # already expired
    assert len(expired) < MIN_SWEEP_ENTRIES


@pytest.mark.redis
async def test_the_security_store_has_its_own_keys_in_redis(redis_url: str) -> None:
    cache, store = create_cache(redis_url), create_security_store(redis_url)
    try:
        await store.set("revoked-jti:abc", "1", ttl=60)
        assert await cache.get("revoked-jti:abc") is None
        assert await cache.get("security:revoked-jti:abc") == "1"
        assert await store.get("revoked-jti:abc") == "1"
        assert await store.incr("counter", 60) == (1, pytest.approx(60, abs=1))
        assert await store.incr("counter", 60, -1) == (0, pytest.approx(60, abs=1))
    finally:
        await cache.close()
        await store.close()


async def test_redis_down_degrades_to_this_process() -> None:
    # Nothing listens on port 1: every call fails fast and falls back to memory.
    cache = RedisCache("redis://127.0.0.1:1/0", timeout=0.2)
    await cache.set("k", "v", ttl=5)
    assert await cache.get("k") == "v"
    assert (await cache.incr("n", 5))[0] == 1
    assert (await cache.incr("n", 5))[0] == 2
    with pytest.raises(CacheUnavailable):
        await cache.ping()
    await cache.close()


@pytest.mark.redis
async def test_redis_outage_and_recovery(redis_server: object, redis_url: str) -> None:
    cache = RedisCache(redis_url, timeout=0.3)
    await cache.set("shared", "1", ttl=60)
    redis_server.stop()  # type: ignore[attr-defined]
    try:
        with pytest.raises(CacheUnavailable):
            await cache.ping()
        assert (await cache.incr("during-outage", 60))[0] == 1
    finally:
        redis_server.start()  # type: ignore[attr-defined]
    for _ in range(50):
        try:
            await cache.ping()
            break
        except CacheUnavailable:
            await asyncio.sleep(0.1)
    await cache.set("after", "yes")
    assert await cache.get("after") == "yes"
    await cache.close()


async def test_get_many_keeps_the_order_of_keys(cache: Cache) -> None:
    await cache.set("a", "1")
    await cache.set("c", "3")
    assert await cache.get_many("a", "b", "c") == ["1", None, "3"]


@pytest.mark.redis
async def test_writes_made_during_an_outage_reach_redis_when_it_is_back(
    redis_server: object, redis_url: str
) -> None:
    """A token revoked, or an entry dropped, while Redis was away stays so for every process
    once Redis is back; a counter restarts."""
    cache = RedisCache(redis_url, timeout=0.3)
    other_process = RedisCache(redis_url, timeout=0.3)
    await cache.set("stale", "old", ttl=60)
    redis_server.stop()  # type: ignore[attr-defined]
    try:
        await cache.set("revoked-jti:abc", "1", ttl=60)
        await cache.set("forever", "1")
        await cache.set("gone-soon", "1", ttl=0.05)
        await cache.delete("stale")
        assert await cache.get("revoked-jti:abc") == "1"  # this process knows meanwhile
        assert await cache.get("stale") is None
    finally:
        redis_server.start()  # type: ignore[attr-defined]
    await other_process.set("stale", "old", ttl=60)  # the restarted server has it again
    await asyncio.sleep(0.1)
    # The first call after the outage catches up before it reads.
    assert await cache.get_many("revoked-jti:abc", "stale", "forever", "gone-soon") == [
        "1",
        None,
        "1",
        None,
    ]
    assert await other_process.get("revoked-jti:abc") == "1"
    remaining = await other_process.ttl("revoked-jti:abc")
    assert remaining is not None
    assert 50 < remaining <= 60
    await cache.close()
    await other_process.close()
