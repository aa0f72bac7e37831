"""Counts and deep pages at 1,000,000 rows, uncached, on SQLite and PostgreSQL.

Lists (the kernel's pagination, `platform/pagination.py`):
  instruments: `GET /api/v1/instruments` (marketplace), 1,000,000 generated listings imported by
  `bandstand import instruments`, id order, counted by the marketplace's own kept count;
  songs: `GET /api/v1/songs` (music), 1,000,000 songs (`_music_data.py`), id order;
  audit log: `GET /api/v1/logs` (admin), 1,000,000 entries over 330 days (`_audit_data.py`),
  newest first, counted from its per-day counts.
For each: the first page with its count, page 10,000 by `page=` (offset 199,980), and page
10,000 by the cursor of page 9,999's `next` link, against the baseline of the same run: the
pagination before cursors, answered by the same app (instruments: the marketplace's kept count
and id anchors; songs: `count(*)` then `OFFSET`; the audit log: its per-day count, then the
page's ids by `OFFSET` on the index, then their rows).

The response cache is off (`public_cache_seconds=0`), so every request reaches the database; what
the lists keep per write generation (a long list's count, the anchors of its deep pages) is what
is measured, and the cost of computing it after a write is reported as "first after a write".
Before measuring, cursors are checked against numbered pages: 20 pages from the start and 10
from page 9,995 on by following `next` links hold the same ids as by `page=`, and page 10,000
holds the same ids and count as the baseline's.

The apps run in this process and are called over ASGI with httpx, one request at a time,
alternating between the paths each round.

    uv run python bench/deep_pages.py [--rows 1000000] [--engines sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, cast

from fastapi import APIRouter, FastAPI, Request
from sqlalchemy import Table, create_engine, text

import _harness as h
import gen_instruments
from _audit_data import entry_rows, load_entries
from _audit_ingest import MIGRATIONS as ADMIN_MIGRATIONS
from _music_data import load as load_songs
from _music_data import prepare_database
from _support import PostgresServer, TokenFactory, api_client
from bandstand.admin.app import create_app as create_admin
from bandstand.admin.models import AuditCount, AuditEntry
from bandstand.admin.schemas import AuditEntryRead
from bandstand.admin.service import audit_filters, audit_service
from bandstand.marketplace.app import create_app as create_marketplace
from bandstand.marketplace.schemas import InstrumentRead
from bandstand.marketplace.service import ListingQuery, instrument_service, listing_filters
from bandstand.music.app import create_app as create_music
from bandstand.music.repository import SongFilters
from bandstand.music.schemas import SongRead
from bandstand.music.service import song_service
from bandstand.platform.database import Database
from bandstand.platform.list_counts import exact_count
from bandstand.platform.migrations import upgrade
from bandstand.platform.runtime import Runtime
from bandstand.platform.settings import Settings
from bandstand.platform.transactions import DBSession
from marketplace_search import timed_import

PAGE = 10_000
SIZE = 20
TARGET_P95_MS = 20.0
LISTS = {"instruments": "/api/v1/instruments", "audit": "/api/v1/logs", "songs": "/api/v1/songs"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--lists", default="instruments,audit,songs")
    parser.add_argument("--requests", type=int, default=200, help="per path, alternating")
    h.common_arguments(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.requests = 250_000, 20
    return args


# --- the baselines: pagination as it was before cursors -------------------------------------------


def baseline_router() -> APIRouter:
    router = APIRouter()

    @router.get("/bench/baseline/songs")
    async def songs(session: DBSession, page: int = 1) -> dict[str, Any]:
        statement = song_service.songs.listing(SongFilters())
        count = await exact_count(session, statement)
        rows = await session.execute(statement.limit(SIZE).offset((page - 1) * SIZE))
        results = [SongRead.model_validate(row._asdict()) for row in rows]
        return {"count": count, "next": None, "previous": None, "results": results}

    @router.get("/bench/baseline/instruments")
    async def instruments(session: DBSession, request: Request, page: int = 1) -> dict[str, Any]:
        filters = listing_filters(ListingQuery())
        counter = request.app.state.listing_counter
        count, rows = await instrument_service.page(
            session, counter, filters, (page - 1) * SIZE, SIZE
        )
        results = [InstrumentRead.of(row) for row in rows]
        return {"count": count, "next": None, "previous": None, "results": results}

    @router.get("/bench/baseline/logs")
    async def logs(session: DBSession, page: int = 1) -> dict[str, Any]:
        filters = audit_filters(service=None, action=None, user=None)
        count = await audit_service.count(session, filters)
        listing = audit_service.listing(filters)
        ids = listing.with_only_columns(AuditEntry.id).limit(SIZE).offset((page - 1) * SIZE)
        page_ids = list((await session.execute(ids)).scalars())
        rows = await session.execute(listing.where(AuditEntry.id.in_(page_ids)))
        results = [AuditEntryRead.model_validate(row._asdict()) for row in rows]
        return {"count": count, "next": None, "previous": None, "results": results}

    return router


# --- data --------------------------------------------------------------------------------------


def load_audit_sqlite(url: str, rows: int) -> None:
    counts: Counter[tuple[date, str, str]] = Counter()
    engine = create_engine(url.replace("+aiosqlite", ""))
    entries = cast(Table, AuditEntry.__table__)
    chunk: list[dict[str, Any]] = []
    with engine.begin() as connection:
        for row in entry_rows(rows, counts):
            chunk.append(row)
            if len(chunk) == 20_000:
                connection.execute(entries.insert(), chunk)
                chunk = []
        if chunk:
            connection.execute(entries.insert(), chunk)
        summary = [
            {"day": day, "service": service, "action": action, "count": n}
            for (day, service, action), n in counts.items()
        ]
        connection.execute(cast(Table, AuditCount.__table__).insert(), summary)
    with engine.connect() as connection:
        connection.execute(text("ANALYZE"))
        connection.commit()
    engine.dispose()


def prepare_instruments(engine: str, rows: int, workdir: Path) -> tuple[str, Callable[[], None]]:
    """Generated listings imported by `bandstand import instruments`, as the marketplace's
    benchmark does."""
    csv_path = workdir / "listings.csv"
    with csv_path.open("w", encoding="utf-8", newline="") as out:
        gen_instruments.write(rows, out, "csv", seed=4)
    if engine == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / 'marketplace.sqlite3'}"
        timed_import(csv_path, url, workdir)
        return url, lambda: None
    postgres = PostgresServer()
    postgres.start()
    postgres.create_database("marketplace_bench")
    url = postgres.url("marketplace_bench")
    timed_import(csv_path, url, workdir)
    postgres.execute("VACUUM ANALYZE instruments", "marketplace_bench")
    return url, postgres.cleanup


async def _migrate_admin(url: str) -> None:
    database = Database(url)
    try:
        await upgrade(database, "admin", ADMIN_MIGRATIONS)
    finally:
        await database.dispose()


def prepare(kind: str, engine: str, rows: int, workdir: Path) -> tuple[str, Callable[[], None]]:
    """A database of `rows` rows of the list: its URL and how to clean it up."""
    if kind == "songs":
        url, cleanup = prepare_database(engine, workdir)
        load_songs(engine, url, workdir, songs=rows, likes=0)
        return url, cleanup
    if kind == "instruments":
        return prepare_instruments(engine, rows, workdir)
    if engine == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / 'admin.sqlite3'}"
        asyncio.run(_migrate_admin(url))
        load_audit_sqlite(url, rows)
        return url, lambda: None
    postgres = PostgresServer()
    postgres.start()
    postgres.create_database("admin_deep")
    url = postgres.url("admin_deep")
    asyncio.run(_migrate_admin(url))
    asyncio.run(load_entries(postgres.dsn("admin_deep"), rows))
    return url, postgres.cleanup


# --- measuring -----------------------------------------------------------------------------------


def build_app(kind: str, url: str, workdir: Path, tokens: TokenFactory) -> FastAPI:
    service = {"songs": "music", "audit": "admin", "instruments": "marketplace"}[kind]
    settings = Settings(
        _env_file=None,
        data_dir=workdir,
        databases={service: url},
        broker_url=f"embedded://{workdir / 'broker.sqlite3'}",
        public_cache_seconds=0,
        search_index_poll_seconds=0,
        log_json=False,
        access_log=False,
        log_level="WARNING",
    )
    runtime = Runtime(settings, jwks_fetch=tokens.jwks)
    create = {"songs": create_music, "audit": create_admin, "instruments": create_marketplace}
    app = create[kind](runtime)
    app.include_router(baseline_router())
    return app


async def _get(client: Any, url: str, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get(url, headers=headers)
    if response.status_code != 200:
        raise RuntimeError(f"{url}: {response.status_code} {response.text[:300]}")
    body: dict[str, Any] = response.json()
    return body


def _ids(body: dict[str, Any]) -> list[int]:
    return [item["id"] for item in body["results"]]


async def check(client: Any, listing: str, baseline: str, headers: dict[str, str]) -> str:
    """Cursor walks against numbered pages, and page 10,000 against the baseline's; the cursor
    of page 10,000."""

    async def walk(url: str, pages: int) -> list[int]:
        seen: list[int] = []
        for _ in range(pages):
            body = await _get(client, url, headers)
            seen += _ids(body)
            url = body["next"]
        return seen

    async def numbered(first: int, pages: int) -> list[int]:
        ids: list[int] = []
        for number in range(first, first + pages):
            ids += _ids(await _get(client, f"{listing}?page={number}&page_size={SIZE}", headers))
        return ids

    if await walk(f"{listing}?page_size={SIZE}", 20) != await numbered(1, 20):
        raise RuntimeError(f"{listing}: cursor walk from the start differs from page=")
    before = await _get(client, f"{listing}?page={PAGE - 5}&page_size={SIZE}", headers)
    if await walk(before["next"], 10) != await numbered(PAGE - 4, 10):
        raise RuntimeError(f"{listing}: cursor walk from page {PAGE - 5:,} differs from page=")
    deep = await _get(client, f"{listing}?page={PAGE}&page_size={SIZE}", headers)
    theirs = await _get(client, f"{baseline}?page={PAGE}", headers)
    if (deep["count"], _ids(deep)) != (theirs["count"], _ids(theirs)):
        raise RuntimeError(f"{listing}: page {PAGE:,} differs from the baseline's")
    previous = await _get(client, f"{listing}?page={PAGE - 1}&page_size={SIZE}", headers)
    by_cursor = await _get(client, previous["next"], headers)
    if _ids(by_cursor) != _ids(deep):
        raise RuntimeError(f"{listing}: page {PAGE:,} by cursor differs from page=")
    return str(previous["next"])


async def first_after_write(
    app: FastAPI, client: Any, urls: dict[str, str], headers: dict[str, str]
) -> dict[str, float]:
    """What the first count and deep page cost once a write has moved the generation."""
    costs = {}
    for label in ("count", "page 10,000 by page="):
        await app.state.write_generation.advance()
        started = time.perf_counter()
        await _get(client, urls[label], headers)
        costs[label] = round((time.perf_counter() - started) * 1000, 1)
    return costs


async def measure(kind: str, url: str, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    tokens = TokenFactory()
    app = build_app(kind, url, workdir, tokens)
    token = tokens.token(user_id=1, role="admin", lifetime=7200)
    headers = {"Authorization": f"Bearer {token}"}
    listing = {
        "songs": "/api/v1/songs",
        "audit": "/api/v1/logs",
        "instruments": "/api/v1/instruments",
    }[kind]
    baseline = f"/bench/baseline/{listing.rsplit('/', 1)[1]}"
    async with api_client(app) as client:
        started = time.perf_counter()
        cursor_url = await check(client, listing, baseline, headers)
        checked = time.perf_counter() - started
        urls = {
            "count": f"{listing}?page_size={SIZE}",
            "page 10,000 by page=": f"{listing}?page={PAGE}&page_size={SIZE}",
            "page 10,000 by cursor": cursor_url,
            "baseline: count": f"{baseline}?page=1",
            "baseline: page 10,000": f"{baseline}?page={PAGE}",
        }
        after_write = await first_after_write(app, client, urls, headers)
        for target in urls.values():  # warm-up, and the kept values of this generation
            await _get(client, target, headers)
        h.settle(args)
        latencies: dict[str, list[float]] = {label: [] for label in urls}
        for _ in range(args.requests):
            for label, target in urls.items():
                began = time.perf_counter()
                await _get(client, target, headers)
                latencies[label].append((time.perf_counter() - began) * 1000)
    return {
        "checked_seconds": round(checked, 1),
        "first_after_write_ms": after_write,
        "paths": {label: summary(values) for label, values in latencies.items()},
    }


def summary(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)

    def at(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))], 2)

    return {"p50_ms": round(statistics.median(ordered), 2), "p95_ms": at(0.95), "p99_ms": at(0.99)}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results: list[dict[str, Any]] = []
    for engine in args.engines.split(","):
        for kind in args.lists.split(","):
            with tempfile.TemporaryDirectory(prefix="bench-deep-") as scratch:
                workdir = Path(scratch)
                started = time.perf_counter()
                url, cleanup = prepare(kind, engine, args.rows, workdir)
                try:
                    loaded = time.perf_counter() - started
                    print(f"{engine} {kind}: {args.rows:,} rows in {loaded:.0f} s", flush=True)
                    measured = asyncio.run(measure(kind, url, workdir, args))
                finally:
                    cleanup()
            results.append({"engine": engine, "list": kind, "rows": args.rows, **measured})
            for label, n in measured["paths"].items():
                print(
                    f"  {label:26} p50 {n['p50_ms']:8.2f}  p95 {n['p95_ms']:8.2f}"
                    f"  p99 {n['p99_ms']:8.2f} ms",
                    flush=True,
                )
            print(f"  first after a write (ms): {measured['first_after_write_ms']}", flush=True)
    rows = [
        (r["engine"], r["list"], label, n["p50_ms"], n["p95_ms"], n["p99_ms"])
        for r in results
        for label, n in r["paths"].items()
    ]
    print(h.markdown_table(["engine", "list", "path", "p50 ms", "p95 ms", "p99 ms"], rows))
    ours = [
        n["p95_ms"] for r in results for label, n in r["paths"].items() if "baseline" not in label
    ]
    met = max(ours) <= TARGET_P95_MS
    print(f"worst p95 of ours: {max(ours):.2f} ms (target {TARGET_P95_MS} ms): {h.verdict(met)}")
    path = h.write_results("deep_pages", {"rows": args.rows, "results": results, "met": met})
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
