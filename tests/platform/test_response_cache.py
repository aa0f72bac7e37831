"""The short-lived cache of anonymous GETs of public lists."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, HTTPException

from bandstand.platform.cache import MemoryCache
from bandstand.platform.response_cache import PublicResponseCache


class BrokenCache(MemoryCache):
    async def get(self, key: str) -> str | None:
        raise ConnectionError("cache down")


def build(cache: MemoryCache, ttl: float = 5.0, stale: float = 10.0) -> tuple[Any, dict[str, int]]:
    calls = {"songs": 0, "failing": 0}
    app = FastAPI()

    @app.get("/songs")
    async def songs(fail: bool = False) -> dict[str, Any]:
        calls["songs"] += 1
        if fail or calls["failing"]:
            raise HTTPException(503, "down")
        return {"served": calls["songs"], "title": "Canción"}

    @app.post("/songs")
    async def create() -> dict[str, str]:
        calls["songs"] += 1
        return {"created": "yes"}

    @app.get("/private")
    async def private() -> dict[str, int]:
        calls["songs"] += 1
        return {"served": calls["songs"]}

    wrapped = PublicResponseCache(
        app, cache=cache, service="music", paths=["/songs"], ttl=ttl, stale=stale
    )
    return wrapped, calls


@pytest.fixture
async def cache() -> AsyncIterator[MemoryCache]:
    cache = MemoryCache()
    yield cache
    await cache.close()


def client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_an_anonymous_list_is_served_from_the_cache(cache: MemoryCache) -> None:
    app, calls = build(cache)
    async with client(app) as http:
        first = await http.get("/songs")
        second = await http.get("/songs/")
    assert first.headers["x-cache"] == "MISS"
    assert second.headers["x-cache"] == "HIT"
    assert second.json() == first.json() == {"served": 1, "title": "Canción"}
    assert second.headers["content-type"] == "application/json"
    assert calls["songs"] == 1


async def test_each_query_and_host_has_its_own_entry(cache: MemoryCache) -> None:
    app, calls = build(cache)
    async with client(app) as http:
        await http.get("/songs?page=1")
        await http.get("/songs?page=2")
        await http.get("/songs?page=1", headers={"Host": "other.example"})
        assert (await http.get("/songs?page=2")).json()["served"] == 2
    assert calls["songs"] == 3


async def test_requests_with_credentials_are_never_cached(cache: MemoryCache) -> None:
    app, _calls = build(cache)
    auth = {"Authorization": "Bearer x"}
    async with client(app) as http:
        await http.get("/songs")
        with_token = await http.get("/songs", headers=auth)
        again = await http.get("/songs", headers=auth)
    assert "x-cache" not in with_token.headers
    assert (with_token.json()["served"], again.json()["served"]) == (2, 3)


async def test_errors_other_methods_and_other_paths_are_not_cached(cache: MemoryCache) -> None:
    app, calls = build(cache)
    async with client(app) as http:
        assert (await http.get("/songs?fail=true")).status_code == 503
        assert (await http.get("/songs?fail=true")).status_code == 503
        await http.post("/songs")
        await http.post("/songs")
        await http.get("/private")
        await http.get("/private")
    assert calls["songs"] == 6


async def test_entries_expire(cache: MemoryCache) -> None:
    app, _calls = build(cache, ttl=0.05, stale=0.05)
    async with client(app) as http:
        await http.get("/songs")
        await asyncio.sleep(0.12)
        again = await http.get("/songs")
    assert again.headers["x-cache"] == "MISS"
    assert again.json()["served"] == 2


async def until_refreshed(app: PublicResponseCache) -> None:
    for _ in range(100):
        if not app.refreshes.running:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the background refresh never ended")


async def test_an_expired_entry_is_answered_while_one_refresh_runs(cache: MemoryCache) -> None:
    # A ttl long enough that the refreshed entry is still fresh at the next request on a slow
    # machine.
    app, calls = build(cache, ttl=0.3)
    async with client(app) as http:
        await http.get("/songs")
        await asyncio.sleep(0.4)
        stale = await asyncio.gather(*(http.get("/songs") for _ in range(6)))
        await until_refreshed(app)
        refreshed = await http.get("/songs")
    assert {response.headers["x-cache"] for response in stale} == {"STALE"}
    assert {response.json()["served"] for response in stale} == {1}
    assert calls["songs"] == 2  # one refresh for the six stale answers
    assert refreshed.headers["x-cache"] == "HIT"
    assert refreshed.json()["served"] == 2


async def test_a_failed_refresh_keeps_the_stale_entry_until_it_ages_out(
    cache: MemoryCache,
) -> None:
    app, calls = build(cache, ttl=0.1, stale=1.0)
    async with client(app) as http:
        await http.get("/songs")
        calls["failing"] = 1
        await asyncio.sleep(0.15)
        during = await http.get("/songs")
        await until_refreshed(app)
        still = await http.get("/songs")
        await until_refreshed(app)
        await asyncio.sleep(1.0)
        after = await http.get("/songs")
    assert (during.status_code, during.headers["x-cache"], during.json()["served"]) == (
        200,
        "STALE",
        1,
    )
    assert (still.status_code, still.json()["served"]) == (200, 1)
    assert after.status_code == 503


async def test_zero_seconds_turns_it_off(cache: MemoryCache) -> None:
    app, calls = build(cache, ttl=0)
    async with client(app) as http:
        await http.get("/songs")
        response = await http.get("/songs")
    assert "x-cache" not in response.headers
    assert calls["songs"] == 2


async def test_a_failing_cache_is_bypassed() -> None:
    app, _calls = build(BrokenCache())
    async with client(app) as http:
        assert (await http.get("/songs")).json()["served"] == 1
        assert (await http.get("/songs")).json()["served"] == 2


async def test_concurrent_misses_compute_the_page_once(cache: MemoryCache) -> None:
    calls = {"n": 0}
    release = asyncio.Event()

    async def slow_app(scope: Any, receive: Any, send: Any) -> None:
        calls["n"] += 1
        await release.wait()
        body = b'{"served": %d}' % calls["n"]
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    app = PublicResponseCache(slow_app, cache=cache, service="music", paths=["/songs"], ttl=5)
    async with client(app) as http:
        pending = [asyncio.create_task(http.get("/songs")) for _ in range(8)]
        await asyncio.sleep(0.05)
        release.set()
        responses = await asyncio.gather(*pending)
    assert calls["n"] == 1
    assert {response.json()["served"] for response in responses} == {1}
    assert sorted(response.headers["x-cache"] for response in responses) == ["HIT"] * 7 + ["MISS"]


async def test_stopping_cancels_the_refreshes_still_running(cache: MemoryCache) -> None:
    started, release = asyncio.Event(), asyncio.Event()
    calls = {"n": 0}

    async def slow_second_time(scope: Any, receive: Any, send: Any) -> None:
        calls["n"] += 1
        if calls["n"] > 1:
            started.set()
            await release.wait()
        body = b'{"served": %d}' % calls["n"]
        await send({"type": "http.response.start", "status": 200, "headers": JSON})
        await send({"type": "http.response.body", "body": body})

    app = PublicResponseCache(
        slow_second_time, cache=cache, service="music", paths=["/songs"], ttl=0.01
    )
    async with client(app) as http:
        await http.get("/songs")
        await asyncio.sleep(0.03)
        assert (await http.get("/songs")).headers["x-cache"] == "STALE"
        await asyncio.wait_for(started.wait(), 1)
        (refresh,) = app.refreshes.running.values()
        await app.refreshes.stop()
    assert refresh.cancelled()
    assert not app.refreshes.running


JSON = [(b"content-type", b"application/json")]
