"""The listings' search index answers what the database holds now: a changed listing as it is,
a listing missing from the kept objects from the database, the database's maxima read again only
after a commit moved the write generation (every time without one), and a row written outside
the platform at the next catch-up."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from bandstand.marketplace import listing_index
from bandstand.marketplace.models import Instrument
from bandstand.marketplace.schemas import InstrumentRead, LegacyInstrument
from bandstand.platform.database import Database
from bandstand.platform.settings import Settings
from tests.marketplace.conftest import INSTRUMENT, Marketplace
from tests.marketplace.index_helpers import ready_index, search_ids


async def test_a_changed_listing_shows_as_it_is_now_in_the_next_search(
    marketplace: Marketplace, client: httpx.AsyncClient
) -> None:
    await ready_index(marketplace)
    body = {**INSTRUMENT, "name": "Zanfona gallega", "price": "100.00"}
    created = await client.post("/api/v1/instruments", json=body, headers=marketplace.admin)
    listing = created.json()["id"]
    first = (await client.get("/api/v1/instruments", params={"search": "zanfona"})).json()
    assert first["results"] == [created.json()]

    changed = await client.patch(
        f"/api/v1/instruments/{listing}",
        json={"price": "250.5", "location": "Lugo"},
        headers=marketplace.admin,
    )
    assert changed.status_code == 200
    found = await client.get("/api/v1/instruments", params={"search": "zanfona"})
    legacy = await client.get("/searchInstrument", params={"name": "zanfona"})
    assert found.json()["results"] == [changed.json()]
    assert found.json()["results"][0]["price"] == "250.50"
    shown = {key: changed.json()[key] for key in LegacyInstrument.model_fields}
    assert legacy.json()["results"] == [shown]


async def test_a_listing_missing_from_the_kept_objects_is_read_from_the_database(
    marketplace: Marketplace, client: httpx.AsyncClient
) -> None:
    index = await ready_index(marketplace)
    first = await marketplace.add("Zanfona de estudio")
    second = await marketplace.add("Zanfona barroca")
    await index.catch_up()
    assert index.index is not None
    assert index.index.shown is not None
    index.index.shown.delete([first])  # as after a crash between the store and the index
    index.index.shown.commit()
    response = await client.get("/api/v1/instruments", params={"search": "zanfona"})
    assert [item["id"] for item in response.json()["results"]] == [second, first]
    async with marketplace.session() as session:
        stored = await session.get(Instrument, first)
        assert stored is not None
    assert response.json()["results"][1] == InstrumentRead.of(stored).model_dump(mode="json")


async def test_searches_read_the_database_again_only_after_a_commit_moved_the_generation(
    marketplace: Marketplace, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    listing = await marketplace.add("Gaita gallega")
    await ready_index(marketplace)
    assert await search_ids(client, search="gaita") == (1, [listing])  # level with the database
    reads: list[str] = []
    real = listing_index.find_shown_page

    async def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append("database")
        return await real(*args, **kwargs)

    monkeypatch.setattr(listing_index, "find_shown_page", counted)
    assert await search_ids(client, search="gaita") == (1, [listing])
    assert await search_ids(client, search="gall", category="Guitarras") == (0, [])
    assert reads == []  # answered by the index alone: nothing was committed since
    added = await marketplace.add("Gaita asturiana")  # a commit: the generation moves
    count, found = await search_ids(client, search="gaita")
    assert (count, sorted(found)) == (2, [listing, added])
    assert reads  # the maxima were read, the index caught up
    reads.clear()
    assert (await search_ids(client, search="gaita"))[0] == 2
    assert reads == []


async def test_without_a_readable_generation_every_search_reads_the_maxima(
    marketplace: Marketplace, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = await ready_index(marketplace)
    assert index.generation is not None

    async def unavailable() -> str:
        raise ConnectionError("the cache is down")

    monkeypatch.setattr(index.generation, "current_everywhere", unavailable)
    listing = await marketplace.add("Zanfona gallega")
    assert await search_ids(client, search="zanfona") == (1, [listing])
    other = await marketplace.add("Zanfona de estudio")
    count, found = await search_ids(client, search="zanfona")
    assert (count, sorted(found)) == (2, [listing, other])


async def test_a_listing_written_outside_the_platform_is_found_by_the_next_catch_up(
    marketplace: Marketplace, marketplace_settings: Settings, client: httpx.AsyncClient
) -> None:
    index = await ready_index(marketplace)
    assert await search_ids(client, search="zanfona") == (0, [])
    outside = Database(marketplace_settings.database_url("marketplace"))  # moves no generation
    try:
        async with outside.session() as session, session.begin():
            now = datetime.now(UTC)
            instrument = Instrument(
                name="Zanfona de estudio",
                link="https://example.com/outside",
                website="example.com",
                created_at=now,
                updated_at=now,
            )
            session.add(instrument)
    finally:
        await outside.dispose()
    await index.catch_up()  # what the background task does every `search_index_poll_seconds`
    assert await search_ids(client, search="zanfona") == (1, [instrument.id])
