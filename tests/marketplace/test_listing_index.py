"""The listings' search index, on each engine: the same matches as a plain scan of the table,
every committed write found by the next search (through the API, directly, by the import command,
from another process), a restart that keeps what was indexed, and the rebuild command."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import TypeAdapter
from sqlalchemy import select
from typer.testing import CliRunner

from bandstand.cli import app as cli
from bandstand.marketplace import listing_index, service, text
from bandstand.marketplace.imports import ImportFormat, import_instruments
from bandstand.marketplace.listing_index import _events_lost
from bandstand.marketplace.models import Instrument
from bandstand.marketplace.schemas import InstrumentRead, LegacyInstrument, LegacyPage
from bandstand.platform.pagination import Page
from bandstand.platform.settings import Settings
from tests.marketplace.conftest import INSTRUMENT, Marketplace
from tests.marketplace.index_helpers import index_of, ready_index, search_ids
from tests.support.tokens import TokenFactory

WORDS = ["Guitarra", "guitar", "GUITARRÓN", "Fender", "fendi", "Violín", "viola", "Piano", "4/4"]
CATEGORIES = ["Guitarras", "guitarras ", "Pianos", None]
TODAY = date.today()


def _corpus(rng: random.Random, size: int) -> list[dict[str, Any]]:
    rows = []
    for _ in range(size):
        name = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))
        price = None if rng.random() < 0.2 else Decimal(rng.randrange(0, 50000)) / 100
        expiration = None if rng.random() < 0.3 else TODAY + timedelta(days=rng.randint(-5, 5))
        rows.append(
            {
                "name": name,
                "price": price,
                "category": rng.choice(CATEGORIES),
                "expiration": expiration,
            }
        )
    return rows


def _scan(rows: dict[int, dict[str, Any]], query: dict[str, Any]) -> set[int]:
    """The listings a plain scan finds: every query word starts a word of the folded name."""
    words = text.words(query["search"])
    found = set()
    for listing, row in rows.items():
        names = text.words(row["name"])
        if not all(any(name.startswith(word) for name in names) for word in words):
            continue
        if row["expiration"] is not None and row["expiration"] < TODAY:
            continue
        if "category" in query and text.key(row["category"] or "") != text.key(query["category"]):
            continue
        price = row["price"]
        if "min_price" in query and (price is None or price < Decimal(query["min_price"])):
            continue
        if "max_price" in query and (price is None or price > Decimal(query["max_price"])):
            continue
        found.add(listing)
    return found


async def test_the_index_finds_what_a_plain_scan_finds(
    marketplace: Marketplace, client: httpx.AsyncClient
) -> None:
    rng = random.Random(15)
    rows = _corpus(rng, 120)
    ids = await marketplace.add_many(rows)
    stored = dict(zip(ids, rows, strict=True))
    await ready_index(marketplace)
    with marketplace.statements() as statements:
        for _ in range(80):
            word = rng.choice(WORDS)
            query: dict[str, Any] = {"search": word[: rng.randint(1, len(word))]}
            if rng.random() < 0.4:
                query["search"] += " " + rng.choice(WORDS).lower()[:3]
            if rng.random() < 0.3:
                query["category"] = rng.choice(CATEGORIES[:3])
            if rng.random() < 0.3:
                query["min_price" if rng.random() < 0.5 else "max_price"] = "123.45"
            count, found = await search_ids(client, **query)
            expected = _scan(stored, query)
            assert count == len(expected), query
            assert set(found) == expected, query
            legacy = {"name": query["search"], "category": query.get("category")}
            legacy["minPrice"], legacy["maxPrice"] = query.get("min_price"), query.get("max_price")
            given = {key: value for key, value in legacy.items() if value is not None}
            response = await client.get("/searchInstrument", params=given)
            if expected:  # in id order, 50 a page
                listed = [listing["id"] for listing in response.json()["results"]]
                assert response.json()["count"] == len(expected), query
                assert listed == sorted(expected)[:50], query
    # Answered by the index: no full-text statement reached the database.
    assert not [s for s in statements if "instruments_fts" in s or "to_tsvector" in s]


async def test_writes_through_the_api_are_found_by_the_next_search(
    marketplace: Marketplace, client: httpx.AsyncClient
) -> None:
    await ready_index(marketplace)
    body = {**INSTRUMENT, "name": "Zanfona gallega"}
    created = await client.post("/api/v1/instruments", json=body, headers=marketplace.admin)
    assert created.status_code == 201
    listing = created.json()["id"]
    assert await search_ids(client, search="zanfona") == (1, [listing])

    changed = await client.patch(
        f"/api/v1/instruments/{listing}", json={"name": "Gaita gallega"}, headers=marketplace.admin
    )
    assert changed.status_code == 200
    assert await search_ids(client, search="zanfona") == (0, [])
    assert await search_ids(client, search="gaita gal") == (1, [listing])
    expired = await client.patch(
        f"/api/v1/instruments/{listing}",
        json={"expiration": (TODAY - timedelta(days=1)).isoformat()},
        headers=marketplace.admin,
    )
    assert expired.status_code == 200
    assert await search_ids(client, search="gaita") == (0, [])

    deleted = await client.delete(f"/api/v1/instruments/{listing}", headers=marketplace.admin)
    assert deleted.status_code == 204
    assert await search_ids(client, search="gallega") == (0, [])
    # Directly in the table (no event): found by its id above the watermark.
    direct = await marketplace.add("Zanfona de estudio")
    assert await search_ids(client, search="zanfona") == (1, [direct])


async def test_a_restart_keeps_the_index_and_catches_up(
    marketplace_settings: Settings, tokens: TokenFactory
) -> None:
    async with Marketplace.running(marketplace_settings, tokens) as first:
        kept = await first.add("Guitarra flamenca Conde")
        await ready_index(first)
        slot = index_of(first).index
        assert slot is not None
        where = slot.slot
    async with Marketplace.running(marketplace_settings, tokens) as second:
        added = await second.add("Guitarra flamenca Ramírez")
        index = index_of(second)
        assert index.index is not None
        assert index.index.slot == where
        assert index.ready  # reopened as it was, not built again
        count, found = await search_ids(second.client, search="flamenca")
        assert (count, sorted(found)) == (2, [kept, added])
        assert index.index.documents() == 2


async def test_an_idle_index_holds_no_writer_and_a_catch_up_with_nothing_new_opens_none(
    marketplace: Marketplace, monkeypatch: pytest.MonkeyPatch
) -> None:
    listing = await marketplace.add("Gaita gallega")
    index = await ready_index(marketplace)
    slot = index.index
    assert slot is not None
    assert not slot.writing  # released by the build's commit

    def no_writer() -> None:
        raise AssertionError("a catch-up with nothing new opened the writer")

    with monkeypatch.context() as patched:
        patched.setattr(slot, "_writing", no_writer)
        await index.catch_up()
        assert await search_ids(marketplace.client, search="gaita") == (1, [listing])
    added = await marketplace.add("Gaita asturiana")
    assert sorted((await search_ids(marketplace.client, search="gaita"))[1]) == [listing, added]
    assert not slot.writing


async def test_two_processes_keep_their_own_index_from_the_same_database(
    marketplace_settings: Settings, tokens: TokenFactory
) -> None:
    async with (
        Marketplace.running(marketplace_settings, tokens) as one,
        Marketplace.running(marketplace_settings, tokens) as other,
    ):
        await ready_index(one)
        await ready_index(other)
        first, second = index_of(one).index, index_of(other).index
        assert first is not None
        assert second is not None
        assert first.slot != second.slot
        body = {**INSTRUMENT, "name": "Bandurria Alhambra"}
        created = await one.client.post("/api/v1/instruments", json=body, headers=one.admin)
        listing = created.json()["id"]
        assert await search_ids(other.client, search="bandurria") == (1, [listing])
        await one.client.delete(f"/api/v1/instruments/{listing}", headers=one.admin)
        assert await search_ids(other.client, search="bandurria") == (0, [])


async def test_an_import_by_the_command_is_found_in_the_running_service(
    marketplace: Marketplace, marketplace_settings: Settings, tmp_path: Path
) -> None:
    await ready_index(marketplace)
    path = tmp_path / "listings.csv"
    header = "name,price,link,image,location,category,expiration,publish,website\n"
    path.write_text(header + "Laúd Hidalgo,300,https://l.example/1,,,Cuerda,,,l.example\n")
    await import_instruments(marketplace_settings, path, ImportFormat.CSV, batch_size=10)
    assert (await search_ids(marketplace.client, search="laud"))[0] == 1
    # The same link with another name: an update the index reads again from the import's start.
    path.write_text(header + "Bouzouki griego,300,https://l.example/1,,,Cuerda,,,l.example\n")
    await import_instruments(marketplace_settings, path, ImportFormat.CSV, batch_size=10)
    assert (await search_ids(marketplace.client, search="laud"))[0] == 0
    assert (await search_ids(marketplace.client, search="bouzouki"))[0] == 1


def test_the_rebuild_command_indexes_every_listing(
    marketplace_settings: Settings, tmp_path: Path
) -> None:
    env = {"BANDSTAND_DATABASES__MARKETPLACE": marketplace_settings.database_url("marketplace")}
    path = tmp_path / "listings.csv"
    header = "name,price,link,image,location,category,expiration,publish,website\n"
    path.write_text(header + "Arpa celta,300,https://a.example/1,,,Arpas,,,a.example\n")
    runner = CliRunner()
    imported = runner.invoke(
        cli, ["import", "instruments", str(path), "--data-dir", str(tmp_path)], env=env
    )
    assert imported.exit_code == 0, imported.output
    rebuilt = runner.invoke(cli, ["index", "instruments", "--data-dir", str(tmp_path)], env=env)
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "rebuilt 1 index slot(s), 1 listings" in rebuilt.output
    assert (tmp_path / "search" / "marketplace-instruments" / "slot-0" / "meta.json").exists()


def test_events_are_lost_only_when_the_outbox_moved_past_the_watermark_unread() -> None:
    assert not _events_lost(10, None, None)  # an empty outbox
    assert not _events_lost(10, 12, 3)  # what follows 10 is there
    assert not _events_lost(10, 12, 11)
    assert _events_lost(10, 12, 12)  # 11 was removed unread (retention)
    assert _events_lost(10, 4, 1)  # numbering started again (SQLite, emptied)
    assert not _events_lost(0, 500, 501)  # after an empty outbox, any id is next


async def test_expired_listings_are_left_out_and_leave_at_the_turn_of_the_day(
    marketplace: Marketplace, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await marketplace.add("Cítara antigua", expiration=(TODAY - timedelta(days=1)).isoformat())
    today = await marketplace.add("Cítara de hoy", expiration=TODAY.isoformat())
    later = await marketplace.add("Cítara de mañana", expiration=(TODAY + timedelta(1)).isoformat())
    index = await ready_index(marketplace)
    assert index.index is not None
    assert index.index.documents() == 2  # the expired one is not indexed at all
    assert sorted((await search_ids(client, search="citara"))[1]) == [today, later]

    # A day later: the listing that expired is no longer found, before the index moves on...
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    monkeypatch.setattr(service, "utcnow", lambda: tomorrow)
    monkeypatch.setattr(listing_index, "utcnow", lambda: tomorrow)
    assert await search_ids(client, search="citara") == (1, [later])
    # ...and its first catch-up of the day removes it from the index.
    await index.catch_up()
    assert index.index.documents() == 1
    assert index.index.state["day"] == tomorrow.date().toordinal()
    assert await search_ids(client, search="citara") == (1, [later])


async def test_a_page_from_the_index_is_the_documented_json_byte_for_byte(
    marketplace: Marketplace, client: httpx.AsyncClient
) -> None:
    await ready_index(marketplace)
    await client.post("/api/v1/instruments", json=INSTRUMENT, headers=marketplace.admin)
    await marketplace.add("Guitarra sin precio ni fechas", link="https://example.com/bare")
    await marketplace.add("Guitarra española", price="1234.5", publish="2026-01-02")
    response = await client.get("/api/v1/instruments", params={"search": "guitarra"})
    legacy = await client.get("/searchInstrument", params={"name": "guitarra"})
    assert response.headers["content-type"] == "application/json"

    # What FastAPI wrote for these routes from a model per listing, the page validated again.
    async with marketplace.session() as session:
        ordered = [item["id"] for item in response.json()["results"]]
        stored = {row.id: row for row in await session.scalars(select(Instrument))}
    page = Page[InstrumentRead](
        count=3,
        next=None,
        previous=None,
        results=[InstrumentRead.of(stored[listing]) for listing in ordered],
    )
    assert response.content == TypeAdapter(Page[InstrumentRead]).dump_json(page)
    old = LegacyPage(
        next=None,
        previous=None,
        count=3,
        total_pages=1,
        current_page=1,
        results=[LegacyInstrument.model_validate(stored[listing]) for listing in sorted(stored)],
    )
    assert legacy.content == TypeAdapter(LegacyPage).dump_json(old)
