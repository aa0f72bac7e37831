"""Counts and deep-page anchors reused between requests, renewed by every write."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import httpx

from bandstand.marketplace.counting import ListingCounter
from bandstand.marketplace.repository import InstrumentFilters
from bandstand.platform.cache import MemoryCache
from bandstand.platform.settings import Settings
from bandstand.platform.write_generation import WriteGeneration
from tests.marketplace.conftest import INSTRUMENT, Marketplace
from tests.support.tokens import TokenFactory


async def _ids(client: httpx.AsyncClient, path: str) -> list[int]:
    body = (await client.get(path)).json()
    return [item["id"] for item in body["results"]]


async def test_deep_pages_from_anchors_are_the_pages_of_the_offset(
    marketplace: Marketplace, client: httpx.AsyncClient
) -> None:
    rows = [
        {"name": f"Guitarra {n}", "expiration": "2020-01-01" if n % 5 == 0 else None}
        for n in range(60)
    ]
    stored = await marketplace.add_many(rows)
    visible = [
        stored_id for stored_id, row in zip(stored, rows, strict=True) if not row["expiration"]
    ]
    marketplace.use_counter(anchor_every=7)

    walked = []
    for page in range(1, 17):
        walked += await _ids(client, f"/api/v1/instruments?page={page}&page_size=3")
    assert walked == visible
    assert (await client.get("/api/v1/instruments?page=16&page_size=3")).json()["count"] == 48
    assert (await client.get("/api/v1/instruments?page=17&page_size=3")).status_code == 404
    assert await _ids(client, "/listInstrument") == visible[:48]


async def test_writes_through_the_service_renew_counts_and_anchors(
    marketplace: Marketplace, client: httpx.AsyncClient
) -> None:
    await marketplace.add_many([{"name": f"Piano {n}"} for n in range(20)])
    marketplace.use_counter(anchor_every=5)
    assert (await client.get("/api/v1/instruments?page=3&page_size=6")).json()["count"] == 20

    created = await client.post("/api/v1/instruments", json=INSTRUMENT, headers=marketplace.admin)
    assert (await client.get("/api/v1/instruments")).json()["count"] == 21
    last = await _ids(client, "/api/v1/instruments?page=4&page_size=6")
    assert last == [created.json()["id"] - 2, created.json()["id"] - 1, created.json()["id"]]

    first = (await _ids(client, "/api/v1/instruments?page_size=1"))[0]
    await client.delete(f"/api/v1/instruments/{first}", headers=marketplace.admin)
    assert (await client.get("/api/v1/instruments?page=4&page_size=6")).json()["count"] == 20
    assert len(await _ids(client, "/api/v1/instruments?page=4&page_size=6")) == 2

    imported = "name,link,website\nViola,https://v.example/1,v\n"
    headers = {**marketplace.admin, "content-type": "text/csv"}
    await client.post("/api/v1/instruments/import", content=imported, headers=headers)
    assert (await client.get("/listInstrument")).json()["count"] == 21


async def test_without_reuse_every_request_counts(
    marketplace: Marketplace, client: httpx.AsyncClient
) -> None:
    marketplace.use_counter(ttl=0)
    await marketplace.add("Violín")
    assert (await client.get("/api/v1/instruments")).json()["count"] == 1
    await marketplace.add("Viola")  # straight to the database, bypassing the service
    assert (await client.get("/api/v1/instruments")).json()["count"] == 2


class _SlowCounts:
    """Stands in for the repository's count: slow, and counting its calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.value = 7

    async def count(self, _session: object, _filters: object) -> int:
        self.calls += 1
        await asyncio.sleep(0.05)
        return self.value


async def test_one_request_counts_while_the_others_wait_or_get_the_stale_count() -> None:
    generation = WriteGeneration(MemoryCache(), "marketplace")
    counter = ListingCounter(generation, ttl=0.2)
    slow = _SlowCounts()
    counter.instruments = slow  # type: ignore[assignment]
    filters = InstrumentFilters(today=date(2026, 12, 1))
    session: Any = None

    first = await asyncio.gather(*(counter.count(session, filters) for _ in range(5)))
    assert first == [7] * 5
    assert slow.calls == 1

    slow.value = 8
    await asyncio.sleep(0.25)  # stale now: answered as it was while one request recounts
    stale = await asyncio.gather(*(counter.count(session, filters) for _ in range(5)))
    assert sorted(stale) == [7, 7, 7, 7, 8]
    assert slow.calls == 2
    assert await counter.count(session, filters) == 8

    await generation.advance()  # a write: the next read counts afresh, and waits for it
    slow.value = 9
    assert await counter.count(session, filters) == 9


async def test_a_write_in_one_process_renews_the_counts_another_reuses(
    marketplace_settings: Settings, redis_url: str, tokens: TokenFactory
) -> None:
    """Two marketplace processes sharing the database and Redis: the count one keeps is
    recounted after a listing is added through the other."""
    settings = marketplace_settings.model_copy(
        update={"cache_url": redis_url, "list_count_cache_seconds": 30}
    )
    async with (
        Marketplace.running(settings, tokens) as writer,
        Marketplace.running(settings, tokens) as reader,
    ):
        await reader.add_many([{"name": f"Piano {n}"} for n in range(3)])
        assert (await reader.client.get("/api/v1/instruments")).json()["count"] == 3
        created = await writer.client.post(
            "/api/v1/instruments", json=INSTRUMENT, headers=writer.admin
        )
        assert created.status_code == 201, created.text
        assert (await reader.client.get("/api/v1/instruments")).json()["count"] == 4
        assert (await reader.client.get("/listInstrument")).json()["count"] == 4
