"""The audit log at scale: ingestion from RabbitMQ, and the filtered list over 1,000,000 entries.

Targets (PostgreSQL, RabbitMQ; both private servers on loopback ports):
  ingestion: >= 2,000 events/s from RabbitMQ into the admin database, through the admin service's
  own subscription (batches of up to 500 events per transaction, idempotent on the event id);
  baseline in the same run: the kernel's ordinary subscription, one transaction per event.
  list: GET /api/v1/logs/ p95 <= 30 ms with 1,000,000 entries, for each filter of contract D and
  `service`; baseline in the same run: the same app answering through the kernel's generic
  `paginate` (count(*) of the filtered rows, then OFFSET over full rows).

The app runs in this process and is called over ASGI with httpx (one request at a time), so the
latencies include routing, token verification, the queries and serialisation, not a network
hop. The machine is small and shared with other work: numbers vary from run to run, and the
ratios to the baselines of the same run are what is comparable.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

import uvloop
from fastapi import APIRouter, Query, Request
from sqlalchemy import select

import _harness as h
from _audit_data import START, load_entries
from _audit_ingest import MIGRATIONS, ingest, median_run
from _support import PostgresServer, RabbitMQServer, TokenFactory, api_client
from bandstand.admin.app import create_app
from bandstand.admin.models import AuditEntry
from bandstand.admin.repository import filtered
from bandstand.admin.schemas import AuditEntryRead
from bandstand.admin.service import audit_filters, audit_service
from bandstand.platform.database import Database
from bandstand.platform.migrations import upgrade
from bandstand.platform.pagination import Pagination, paginate, read_page
from bandstand.platform.runtime import Runtime
from bandstand.platform.security import AdminUser
from bandstand.platform.settings import Settings
from bandstand.platform.transactions import DBSession

TARGET_EVENTS_PER_SECOND = 2_000.0
TARGET_P95_MS = 30.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="events ingested (batched)")
    parser.add_argument("--baseline-events", type=int, default=4_000)
    parser.add_argument("--entries", type=int, default=1_000_000, help="rows of the list test")
    parser.add_argument("--requests", type=int, default=100, help="requests per list scenario")
    parser.add_argument("--scenario-seconds", type=float, default=20.0)
    parser.add_argument("--ingestion-only", action="store_true", help="skip the list over 1M")
    parser.add_argument("--rounds", type=int, default=3, help="ingestion rounds (median)")
    h.common_arguments(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.baseline_events, args.entries, args.requests = 2_000, 500, 50_000, 20
        args.rounds = 1
    return args


# --- the list over 1M entries --------------------------------------------------------------------


def naive_router() -> APIRouter:
    """The baseline: the same filters answered by the kernel's generic pagination."""
    router = APIRouter()

    @router.get("/bench/naive-logs")
    async def naive(
        _admin: AdminUser,
        session: DBSession,
        request: Request,
        pagination: Pagination,
        action: str | None = None,
        user: int | None = None,
        date_from: Annotated[date | None, Query()] = None,
        date_to: Annotated[date | None, Query()] = None,
        service: str | None = None,
    ) -> dict[str, Any]:
        filters = audit_filters(
            service=service, action=action, user=user, date_from=date_from, date_to=date_to
        )
        statement = filtered(select(AuditEntry), filters)
        statement = statement.order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc())
        return await paginate(
            session, statement, pagination, request, transform=AuditEntryRead.model_validate
        )

    return router


def scenarios(actor: int, entries: int) -> dict[str, str]:
    week = (START + timedelta(days=200)).date()
    shallow, deep = max(1, entries // 2_000), max(1, entries // 200)
    return {
        "no filter": "",
        "service=music": "service=music",
        "action=identity.user.logged_in": "action=identity.user.logged_in",
        f"user={actor}": f"user={actor}",
        "date range (7 days)": f"date_from={week}&date_to={week + timedelta(days=6)}",
        "action + date range": (
            f"action=billing.order.completed&date_from={week}&date_to={week + timedelta(days=6)}"
        ),
        "service + user": f"service=identity&user={actor}",
        f"page {shallow:,} (offset {(shallow - 1) * 20:,})": f"page={shallow}",
        f"page {deep:,} (offset {(deep - 1) * 20:,})": f"page={deep}",
    }


async def measure_list(
    url: str, tmp: Path, actor: int, args: argparse.Namespace
) -> list[dict[str, Any]]:
    tokens = TokenFactory()
    settings = Settings(
        _env_file=None,
        data_dir=tmp,
        databases={"admin": url},
        broker_url=f"embedded://{tmp / 'broker.sqlite3'}",
        log_json=False,
        access_log=False,
        log_level="WARNING",
    )
    app = create_app(Runtime(settings, jwks_fetch=tokens.jwks))
    app.include_router(naive_router())
    # Valid for the whole run (the factory's default is 5 minutes).
    headers = {"Authorization": f"Bearer {tokens.token(user_id=1, role='admin', lifetime=7200)}"}
    results = []
    async with api_client(app) as client:
        h.settle(args)
        measured = await _latencies(client, {"floor": "/api/v1/settings/public/"}, {}, args)
        floor = measured["floor"][0]
        results.append(
            {"scenario": "floor: GET /api/v1/settings/public/ (empty)", "ours": _summary(floor)}
        )
        for name, query in scenarios(actor, args.entries).items():
            row: dict[str, Any] = {"scenario": name}
            counts = []
            h.settle(args)
            urls = {"ours": f"/api/v1/logs/?{query}", "baseline": f"/bench/naive-logs?{query}"}
            measured = await _latencies(client, urls, headers, args)
            for label, (latencies, body) in measured.items():
                row[label] = _summary(latencies)
                counts.append(body["count"])
                first_ids = [item["id"] for item in body["results"]]
                row[f"{label}_ids"] = first_ids[:3]
            if counts[0] != counts[1] or row["ours_ids"] != row["baseline_ids"]:
                raise RuntimeError(f"{name}: the two answers differ ({counts})")
            row["count"] = counts[0]
            row["queries"] = _summary(await _query_latencies(app.state.database, query, args))
            results.append(row)
            print(
                f"{name:34} count {counts[0]:>9,}  ours p95 {row['ours']['p95_ms']:7.2f} ms"
                f"  baseline p95 {row['baseline']['p95_ms']:8.2f} ms",
                flush=True,
            )
    return results


async def _latencies(
    client: Any, urls: dict[str, str], headers: dict[str, str], args: argparse.Namespace
) -> dict[str, tuple[list[float], dict[str, Any]]]:
    """Latencies of each URL, requested in turn (one of each per round), so a change in the
    machine's load between rounds weighs on every URL alike."""
    bodies: dict[str, dict[str, Any]] = {}
    for label, url in urls.items():
        for _ in range(3):  # warm-up
            response = await client.get(url, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"{url}: {response.status_code} {response.text[:300]}")
            bodies[label] = response.json()
    latencies: dict[str, list[float]] = {label: [] for label in urls}
    deadline = time.perf_counter() + args.scenario_seconds
    for _ in range(args.requests):
        for label, url in urls.items():
            started = time.perf_counter()
            await client.get(url, headers=headers)
            latencies[label].append((time.perf_counter() - started) * 1000)
        if time.perf_counter() > deadline:
            break
    return {label: (latencies[label], bodies[label]) for label in urls}


async def _query_latencies(database: Database, query: str, args: argparse.Namespace) -> list[float]:
    """The service's two reads alone (count, then the page), without HTTP, token or JSON."""
    params = dict(part.split("=", 1) for part in query.split("&") if part)
    page = int(params.pop("page", "1"))
    user = params.pop("user", None)
    days = {key: date.fromisoformat(value) for key, value in params.items() if "date" in key}
    filters = audit_filters(
        service=params.get("service"),
        action=params.get("action"),
        user=int(user) if user else None,
        **days,
    )
    latencies = []
    for n in range(args.requests + 3):
        started = time.perf_counter()
        async with database.session() as session:
            count = await audit_service.count(session, filters)
            if (page - 1) * 20 < count:
                await read_page(session, audit_service.listing(filters), (page - 1) * 20, 20)
        if n >= 3:
            latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def _summary(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "requests": len(ordered),
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(p95, 2),
    }


# --- main ----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as scratch:
        tmp = Path(scratch)
        postgres, rabbitmq = PostgresServer(), RabbitMQServer()
        try:
            postgres.start()
            rabbitmq.start()
            runs: list[dict[str, Any]] = []
            # Interleaved rounds: a change in the machine's load weighs on every strategy.
            plan = [("baseline", args.baseline_events)]
            for _ in range(args.rounds):
                plan += [("batched", args.events), ("ceiling", args.events)]
            for number, (strategy, count) in enumerate(plan):
                name = f"admin_ingest_{strategy}_{number}"
                postgres.create_database(name)
                h.settle(args)
                # uvloop: the loop uvicorn runs `bandstand serve admin` on.
                result = uvloop.run(ingest(strategy, rabbitmq.url, postgres.url(name), count))
                print(
                    f"ingestion {strategy:8}: {result['events_per_second']:9,.0f} events/s"
                    f" ({count:,} events, {result['seconds']:.1f} s;"
                    f" {result['recorded_after_redelivery']:,} after redelivering 100)",
                    flush=True,
                )
                runs.append(result)
            ingestion = [
                median_run(runs, strategy) for strategy in ("baseline", "batched", "ceiling")
            ]
            listing: list[dict[str, Any]] = []
            if not args.ingestion_only:
                postgres.create_database("admin_list")
                url = postgres.url("admin_list")
                asyncio.run(_migrate(url))
                loaded_at = time.perf_counter()
                loaded = asyncio.run(load_entries(postgres.dsn("admin_list"), args.entries))
                print(f"loaded {args.entries:,} in {time.perf_counter() - loaded_at:.0f} s")
                listing = asyncio.run(measure_list(url, tmp, loaded["busiest_actor"], args))
        finally:
            rabbitmq.cleanup()
            postgres.cleanup()
    batched = ingestion[1]["events_per_second"]
    baseline = ingestion[0]["events_per_second"]
    ceiling = ingestion[2]["events_per_second"]
    filtered = [row for row in listing if row["scenario"].split()[0] not in ("page", "floor:")]
    worst = max((row["ours"]["p95_ms"] for row in filtered), default=float("nan"))
    summary = {
        "ingestion_events_per_second": batched,
        "ingestion_ratio_to_baseline": round(batched / baseline, 2),
        "ingestion_ratio_to_ceiling": round(batched / ceiling, 2),
        "ingestion_target_met": batched >= TARGET_EVENTS_PER_SECOND,
        "list_worst_filtered_p95_ms": worst,
        "list_target_met": worst <= TARGET_P95_MS,
    }
    print()
    print(
        h.markdown_table(
            ["ingestion (median run)", "events", "events/s", "every run", "mean batch"],
            [
                (
                    r["strategy"],
                    r["events"],
                    r["events_per_second"],
                    ", ".join(f"{rate:,.0f}" for rate in r["all_events_per_second"]),
                    r["mean_batch"],
                )
                for r in ingestion
            ],
        )
    )
    print()
    if listing:
        print(
            h.markdown_table(
                [
                    "GET /api/v1/logs/",
                    "count",
                    "p50 ms",
                    "p95 ms",
                    "queries p95",
                    "baseline p50",
                    "baseline p95",
                ],
                [
                    (
                        row["scenario"],
                        row.get("count", "-"),
                        row["ours"]["p50_ms"],
                        row["ours"]["p95_ms"],
                        row.get("queries", {}).get("p95_ms", "-"),
                        row.get("baseline", {}).get("p50_ms", "-"),
                        row.get("baseline", {}).get("p95_ms", "-"),
                    )
                    for row in listing
                ],
            )
        )
    print()
    print(
        f"ingestion {batched:,.0f} events/s (target {TARGET_EVENTS_PER_SECOND:,.0f}):"
        f" {h.verdict(summary['ingestion_target_met'])};"
        f" worst filtered p95 {worst:.2f} ms (target {TARGET_P95_MS:g}):"
        f" {h.verdict(summary['list_target_met'])}"
    )
    path = h.write_results(
        "audit_log",
        {
            "args": vars(args),
            "ingestion": ingestion,
            "ingestion_runs": runs,
            "listing": listing,
            "summary": summary,
        },
    )
    print(f"results in {path.relative_to(h.REPO)}")
    return 0


async def _migrate(url: str) -> None:
    database = Database(url)
    try:
        await upgrade(database, "admin", MIGRATIONS)
    finally:
        await database.dispose()


if __name__ == "__main__":
    sys.exit(main())
