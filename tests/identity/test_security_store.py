"""Security state lives apart from cached answers and is never evicted before it expires: however
many answers are cached, a revoked token stays refused and a locked login stays locked.

In memory the cache of answers is bounded by bytes while the security store keeps every live
entry; with Redis the cache may sit on a server that evicts (as a cache server is configured)
while the security store uses its own keys on one that does not."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest
from redis.asyncio import Redis

from bandstand.platform.settings import Settings
from tests.identity.conftest import USER_PASSWORD, IdentityHarness, running_identity
from tests.support.servers import RedisServer

CACHED_ENTRIES = 200_000
LOGIN = "/api/v1/login/"


async def _revoke_and_lock(identity: IdentityHarness) -> list[dict[str, str]]:
    """Log a session out, deactivate a user, and lock `member`'s login from the test client's
    address; returns the headers of the two revoked access tokens."""
    tokens = await identity.tokens(identity.member)
    assert (await identity.client.post("/api/v1/logout", headers=tokens.headers)).is_success
    leaver = await identity.add_user("leaver")
    leaver_tokens = await identity.tokens(leaver)
    admin = await identity.tokens(identity.admin)
    deactivated = await identity.client.put(
        f"/api/v1/users/{leaver.id}", json={"is_active": False}, headers=admin.headers
    )
    assert deactivated.status_code == 200
    wrong = {"username": "member", "password": "wrong-password"}
    statuses = [(await identity.client.post(LOGIN, json=wrong)).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    return [tokens.headers, leaver_tokens.headers]


async def _still_refused(client: httpx.AsyncClient, revoked: list[dict[str, str]]) -> None:
    for headers in revoked:
        profile = await client.get("/api/v1/profile", headers=headers)
        assert profile.status_code == 401
        assert profile.json()["detail"] == "Token revoked"
    right = await client.post(LOGIN, json={"username": "member", "password": USER_PASSWORD})
    assert right.status_code == 429


@pytest.mark.parametrize("engine", ["sqlite"])
async def test_cached_answers_never_evict_security_state_in_memory(
    make_settings: Callable[..., Settings], identity_database_url: str
) -> None:
    settings = make_settings(
        databases={"identity": identity_database_url}, cache_max_bytes=4 * 1024 * 1024
    )
    async with running_identity(settings) as identity:
        revoked = await _revoke_and_lock(identity)
        cache = identity.app.state.runtime.cache
        for number in range(CACHED_ENTRIES):
            await cache.set(f"response:music:/songs?page={number}", '{"results": []}', ttl=60)

        await _still_refused(identity.client, revoked)
        # The answers are bounded by bytes: the oldest made room for the newest.
        assert cache.size_bytes <= settings.cache_max_bytes
        assert await cache.get(f"response:music:/songs?page={CACHED_ENTRIES - 1}") is not None
        assert await cache.get("response:music:/songs?page=0") is None


@pytest.fixture
def evicting_redis() -> Iterator[RedisServer]:
    """A Redis server configured as a cache server often is: little memory, any key evicted."""
    server = RedisServer()
    try:
        server.start()
        server.command("CONFIG", "SET", "maxmemory", "8mb")
        server.command("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
        yield server
    finally:
        server.cleanup()


async def _fill(url: str, count: int) -> AsyncIterator[int]:
    redis = Redis.from_url(url)
    try:
        for start in range(0, count, 10_000):
            async with redis.pipeline(transaction=False) as pipe:
                for number in range(start, min(count, start + 10_000)):
                    pipe.set(f"response:music:/songs?page={number}", "x" * 100, ex=60)
                await pipe.execute()
            yield start
        yield int(await redis.dbsize())
    finally:
        await redis.aclose()


@pytest.mark.redis
@pytest.mark.parametrize("engine", ["sqlite"])
async def test_cached_answers_never_evict_security_state_in_redis(
    make_settings: Callable[..., Settings],
    identity_database_url: str,
    redis_url: str,
    evicting_redis: RedisServer,
) -> None:
    settings = make_settings(
        databases={"identity": identity_database_url},
        cache_url=evicting_redis.url,
        security_store_url=redis_url,
    )
    async with running_identity(settings) as identity:
        revoked = await _revoke_and_lock(identity)
        progress = [step async for step in _fill(evicting_redis.url, CACHED_ENTRIES)]
        assert progress[-1] < CACHED_ENTRIES  # the cache's server did evict

        await _still_refused(identity.client, revoked)


@pytest.mark.redis
@pytest.mark.parametrize("engine", ["sqlite"])
async def test_a_security_store_on_an_evicting_redis_is_reported(
    make_settings: Callable[..., Settings],
    identity_database_url: str,
    redis_url: str,
    evicting_redis: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="bandstand.runtime")
    safe = make_settings(
        databases={"identity": identity_database_url},
        cache_url=evicting_redis.url,
        security_store_url=redis_url,
    )
    async with running_identity(safe, seed=False):
        assert not [r for r in caplog.records if "may evict" in r.getMessage()]
    unsafe = safe.model_copy(update={"security_store_url": evicting_redis.url})
    async with running_identity(unsafe, seed=False):
        (warning,) = [r for r in caplog.records if "may evict" in r.getMessage()]
        assert "allkeys-lru" in warning.getMessage()
