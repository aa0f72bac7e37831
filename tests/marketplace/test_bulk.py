"""A large first import defers the secondary and full-text indexes and builds them at its end;
whatever happens, every listing is found afterwards, the API's writes during it included."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bandstand.marketplace.imports import bulk, command
from bandstand.marketplace.imports.importer import ImportFormat, InstrumentImport
from bandstand.marketplace.models import MarketplaceBase
from bandstand.platform.settings import Settings
from tests.marketplace.conftest import INSTRUMENT, Marketplace
from tests.marketplace.test_migrations import ENGINE_SPECIFIC
from tests.support.schema import schema_differences

HEADER = "name,price,link,image,location,category,expiration,publish,website\n"
NAMES = ["Guitarra Fender Stratocaster", "Piano Yamaha P-45", "Violín Stentor", "Bajo Fender"]


def _csv(tmp_path: Path, count: int, first: int = 0, *, extra: tuple[str, ...] = ()) -> Path:
    lines = [
        f"{NAMES[n % len(NAMES)]} {n},{n}.50,https://b.example/{n},,Madrid,Cat {n % 3},,,b.example"
        for n in range(first, first + count)
    ]
    lines.extend(extra)
    path = tmp_path / f"listings-{first}-{len(extra)}.csv"
    path.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    return path


async def _import(settings: Settings, path: Path) -> tuple[int, int, int]:
    summary = await command.import_instruments(settings, path, ImportFormat.CSV, batch_size=3)
    return summary.inserted, summary.updated, summary.unchanged


async def _names(marketplace: Marketplace) -> set[str]:
    async with marketplace.database.engine.connect() as connection:
        return await bulk.present_names(connection)


async def _schema_differences(marketplace: Marketplace) -> list[Any]:
    async with marketplace.database.engine.connect() as connection:
        return await connection.run_sync(
            schema_differences(
                MarketplaceBase.metadata,
                skip_table_prefixes=("instruments_fts",),
                skip_names=ENGINE_SPECIFIC,
            )
        )


async def _found(client: httpx.AsyncClient, query: str, **filters: str) -> int:
    response = await client.get("/api/v1/instruments", params={"search": query, **filters})
    assert response.status_code == 200, response.text
    count: int = response.json()["count"]
    return count


def _expected(marketplace: Marketplace) -> set[str]:
    return bulk.deferred_names(marketplace.database.engine.dialect.name)


@pytest.fixture
def large(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file counts as large; a load commits every 4 rows."""
    monkeypatch.setattr(bulk, "LOAD_BYTES", 0)
    monkeypatch.setattr(bulk, "LOAD_COMMIT_ROWS", 4)


def _before_build(
    monkeypatch: pytest.MonkeyPatch, hook: Callable[[], Awaitable[None]]
) -> list[bool]:
    """Run `hook` when a load starts building; the list records each build."""
    builds: list[bool] = []
    original = bulk.build

    async def build(session: Any) -> None:
        builds.append(True)
        await hook()
        await original(session)

    monkeypatch.setattr(bulk, "build", build)
    return builds


@pytest.mark.usefixtures("large")
async def test_a_large_first_import_builds_the_indexes_after_the_rows_and_keeps_api_writes(
    marketplace: Marketplace,
    client: httpx.AsyncClient,
    marketplace_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def write_during_the_load() -> None:
        # The indexes are gone while the rows go in; the API still writes (and is kept).
        assert _expected(marketplace).isdisjoint(await _names(marketplace))
        body = {**INSTRUMENT, "name": "Contrabajo Ortega", "category": "Cat 1"}
        response = await client.post("/api/v1/instruments", json=body, headers=marketplace.admin)
        assert response.status_code == 201, response.text

    builds = _before_build(monkeypatch, write_during_the_load)

    # The last row repeats the first one's link, batches later: it updates that listing.
    again = "Guitarra Gibson Les Paul 0,0.50,https://b.example/0,,Madrid,Cat 0,,,b.example"
    first_load = _csv(tmp_path, 40, extra=(again,))
    assert await _import(marketplace_settings, first_load) == (40, 1, 0)

    assert builds == [True]
    assert _expected(marketplace) <= await _names(marketplace)
    assert await _schema_differences(marketplace) == []  # built as the migration built them
    assert await _found(client, "fender") == 19
    assert await _found(client, "gibson paul", category="cat 0") == 1
    assert await _found(client, "fender strat", category="cat 0") == 3
    assert await _found(client, "stentor 38") == 1
    assert await _found(client, "contrabajo", category="cat 1") == 1
    # The triggers are back: later writes reach the full-text index at once.
    body = {**INSTRUMENT, "name": "Ukelele Kala", "link": "https://u.example/1"}
    created = await client.post("/api/v1/instruments", json=body, headers=marketplace.admin)
    assert created.status_code == 201
    assert await _found(client, "ukelele kala") == 1
    # The same file again changes nothing; a newer one updates what changed.
    as_stored = _csv(tmp_path, 39, first=1, extra=(again,))
    assert await _import(marketplace_settings, as_stored) == (0, 0, 40)
    changed = "Bajo Fender 39,45.00,https://b.example/39,,Madrid,Cat 0,,,b.example"
    newer = _csv(tmp_path, 10, first=35, extra=(changed,))
    assert await _import(marketplace_settings, newer) == (5, 1, 5)
    assert builds == [True]  # the table had listings: nothing deferred


@pytest.mark.usefixtures("large")
async def test_a_load_that_fails_builds_the_indexes_before_it_ends(
    marketplace: Marketplace,
    client: httpx.AsyncClient,
    marketplace_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = InstrumentImport.write
    calls = 0

    async def write_then_fail(self: InstrumentImport, session: Any, rows: Any) -> None:
        nonlocal calls
        calls += 1
        if calls > 4:
            raise RuntimeError("the disk is full")
        await original(self, session, rows)

    monkeypatch.setattr(InstrumentImport, "write", write_then_fail)

    with pytest.raises(RuntimeError):
        await _import(marketplace_settings, _csv(tmp_path, 40))

    assert _expected(marketplace) <= await _names(marketplace)
    kept = await marketplace.count()
    assert 0 < kept < 40  # what was committed stays, and is found
    assert await _found(client, "") == kept
    assert await _found(client, "fender") == 6  # of rows 0 to 11, committed every 6


async def test_an_import_builds_what_a_killed_load_left_missing(
    marketplace: Marketplace,
    client: httpx.AsyncClient,
    marketplace_settings: Settings,
    tmp_path: Path,
) -> None:
    async with marketplace.database.session() as session:
        await bulk.defer(await session.connection())
        await session.commit()
    await marketplace.add("Saxofón Selmer")  # written while they are missing

    assert await _import(marketplace_settings, _csv(tmp_path, 5)) == (5, 0, 0)

    assert _expected(marketplace) <= await _names(marketplace)
    assert await _found(client, "saxofon") == 1
    assert await _found(client, "fender") == 3
