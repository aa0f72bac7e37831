"""The instrument marketplace at 1,000,000 listings: import, search, deep pages and counts.

Targets (per engine, SQLite and PostgreSQL):
  import of 1,000,000 CSV rows with `bandstand import instruments` in <= 60 s, peak RSS <= 300 MB;
  GET /api/v1/instruments?search=<two words>&category=...&page_size=50 through the gateway at
  16 connections: p95 <= 20 ms; >= 20x the requests/s of the same queries answered as the
  original system did (`_original_search.py`: unindexed case-insensitive substring scan);
  deep pages (page 10,000) and the plain list's count: p95 <= 50 ms;
  1,200 varied searches (`_search_queries.py`), default order, response cache off: p95 <= 20 ms
  and >= 100x the original's requests/s on the same searches, checked against a plain scan
  first (`_varied_search.py`); the search index is built by `bandstand index instruments`.

Per engine: a fresh marketplace database is migrated, the generated CSV (bench/gen_instruments.py,
the same file for both engines) imported by the command (wall time and peak RSS measured by
/usr/bin/time), the tables analysed, then served by two `bandstand up` processes (gateway and
every service in one process): one as shipped, where anonymous reads of the public lists may
come from the 1 s response cache, and one with that cache off. Each path is measured on both;
the varied searches also in distributed mode (`serve marketplace` behind `serve gateway`), with
one replica of the marketplace and with two.
The original's queries run in their own uvicorn process on the same database. wrk rotates over
eight query pairs; p95 comes from wrk's own latency histogram (a Lua `done` hook).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

import _harness as h
import _search_queries as sq
import _varied_search as varied
import gen_instruments
from _marketplace_report import NO_CACHE, report
from _search_wrk import distributed_run, wrk

QUERIES = [
    ("fender stratocaster", "Guitarras eléctricas"),
    ("gibson paul", "Guitarras eléctricas"),
    ("yamaha digital", "Pianos y teclados"),
    ("roland drum", "Baterías y percusión"),
    ("marshall amplifier", "Amplificadores"),
    ("alhambra guitar", "Guitarras clásicas"),
    ("stentor violin", "Cuerda frotada"),
    ("boss pedal", "Efectos y pedales"),
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,postgres", help="comma-separated")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--original-duration", type=float, default=20.0, help="seconds of the original's run"
    )
    parser.add_argument(
        "--database",
        help="an already imported marketplace database URL (one engine): skip the import",
    )
    h.common_arguments(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.listings, args.duration, args.warmup = 20_000, 3.0, 1.0
        args.original_duration = 5.0
    global DEEP_PAGE
    DEEP_PAGE = min(DEEP_PAGE, int(args.listings * 0.8) // 50)
    return args


DEEP_PAGE = 10_000


def deep_paths() -> list[str]:
    """Page 10,000 of 50 (offset 499,950) of the canonical and the inherited list."""
    return [
        f"/api/v1/instruments?page={DEEP_PAGE}&page_size=50",
        f"/listInstrument?page={DEEP_PAGE}",
    ]


def search_paths() -> list[str]:
    return [
        "/api/v1/instruments?"
        + urllib.parse.urlencode({"search": words, "category": category, "page_size": 50})
        for words, category in QUERIES
    ]


def original_paths() -> list[str]:
    return [
        "/search?" + urllib.parse.urlencode({"name": words, "category": category})
        for words, category in QUERIES
    ]


def measured_paths() -> list[tuple[str, list[str]]]:
    """What wrk measures, each as shipped and again with the response cache off."""
    return [
        ("search", search_paths()),
        ("deep page", [deep_paths()[0]]),
        ("deep page, inherited", [deep_paths()[1]]),
        ("count", ["/api/v1/instruments?page_size=50"]),
    ]


def prepare_database(engine: str, workdir: Path) -> tuple[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    if engine == "sqlite":
        return f"sqlite+aiosqlite:///{workdir / 'marketplace.sqlite3'}", None
    from _support import PostgresServer

    server = PostgresServer()
    server.start()
    server.create_database("marketplace_bench")
    return server.url("marketplace_bench"), server


def timed_import(csv_path: Path, url: str, workdir: Path) -> dict[str, Any]:
    """`bandstand import instruments` under /usr/bin/time: wall seconds, peak RSS, summary."""
    env = h.process_env({"BANDSTAND_DATABASES__MARKETPLACE": url})
    migrate = [*h.bandstand_command(), "migrate", "marketplace", "--data-dir", str(workdir / "var")]
    subprocess.run(migrate, env=env, check=True, capture_output=True)
    argv = [
        "/usr/bin/time",
        "-f",
        "TIME %e %M %U %S",
        *h.bandstand_command(),
        "import",
        "instruments",
        str(csv_path),
        "--data-dir",
        str(workdir / "var"),
    ]
    started = time.monotonic()
    completed = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    measured = re.search(r"TIME ([\d.]+) (\d+) ([\d.]+) ([\d.]+)", completed.stderr)
    summary = re.search(
        r"inserted (\d+), updated (\d+), unchanged (\d+), rejected (\d+)", completed.stdout
    )
    if completed.returncode != 0 or measured is None or summary is None:
        raise RuntimeError(f"import failed:\n{completed.stdout}\n{completed.stderr[-2000:]}")
    return {
        "seconds": float(measured.group(1)),
        "seconds_with_start": wall,
        "peak_rss_mib": int(measured.group(2)) / 1024,
        "cpu_seconds": float(measured.group(3)) + float(measured.group(4)),
        "inserted": int(summary.group(1)),
        "updated": int(summary.group(2)),
        "unchanged": int(summary.group(3)),
        "rejected": int(summary.group(4)),
    }


def analyse(engine: str, url: str, server: Any) -> None:
    """The import analysed the table already; PostgreSQL's index-only scans also want the
    visibility map that autovacuum would build a little later. A database given with
    `--database` is taken as it is."""
    if engine == "postgres" and server is not None:
        server.execute("VACUUM instruments", "marketplace_bench")


def check(port: int, original_port: int) -> dict[str, Any]:
    """Both sides answer 200 and find the same listings (counts compared per query)."""
    counts = {}
    for (words, _category), ours, theirs in zip(
        QUERIES, search_paths(), original_paths(), strict=True
    ):
        status, body = h.http_request(port, "GET", ours, timeout=120)
        status2, body2 = h.http_request(original_port, "GET", theirs, timeout=120)
        if status != 200 or status2 != 200:
            raise RuntimeError(f"{words}: {status} {body[:200]!r} / {status2} {body2[:200]!r}")
        counts[words] = {
            "indexed": json.loads(body)["count"],
            "original": json.loads(body2)["count"],
        }
    for path in deep_paths():
        status, body = h.http_request(port, "GET", path, timeout=120)
        if status != 200 or len(json.loads(body)["results"]) != 50:
            raise RuntimeError(f"{path}: {status} {body[:200]!r}")
    return counts


def first_requests(port: int) -> dict[str, float]:
    """How long the first request of each kind takes, before anything is reused."""
    timings = {}
    paths = {
        "count (list page 1)": "/api/v1/instruments?page_size=50",
        "deep page (finds the anchors)": deep_paths()[0],
        "deep page (anchors known)": deep_paths()[1],
        "search": search_paths()[0],
    }
    for name, path in paths.items():
        started = time.perf_counter()
        status, body = h.http_request(port, "GET", path, timeout=120)
        timings[name] = round((time.perf_counter() - started) * 1000, 1)
        if status != 200:
            raise RuntimeError(f"{path}: {status} {body[:200]!r}")
    return timings


def one_at_a_time(port: int, original_port: int, rounds: int = 2) -> dict[str, float]:
    """Median latency of the eight searches sent one at a time, on each side."""
    timings: dict[str, list[float]] = {"indexed": [], "original": []}
    for _ in range(rounds):
        for ours, theirs in zip(search_paths(), original_paths(), strict=True):
            for side, target, path in (
                ("indexed", port, ours),
                ("original", original_port, theirs),
            ):
                started = time.perf_counter()
                h.http_request(target, "GET", path, timeout=120)
                timings[side].append((time.perf_counter() - started) * 1000)
    return {side: round(statistics.median(values), 1) for side, values in timings.items()}


def measure_engine(
    engine: str, csv_path: Path, args: argparse.Namespace, tmp: Path
) -> dict[str, Any]:
    workdir = tmp / engine
    if args.database:
        url, server = args.database, None
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        url, server = prepare_database(engine, workdir)
    try:
        imported = timed_import(csv_path, url, workdir) if not args.database else {}
        print(f"  {engine}: import {imported}", file=sys.stderr, flush=True)
        analyse(engine, url, server)
        indexed = varied.build_index(url, [workdir / name for name in ("up", "shipped", "serve")])
        print(f"  {engine}: search index {indexed}", file=sys.stderr, flush=True)
        port, original_port = h.free_port(), h.free_port()
        up = h.bandstand_process(
            "bandstand",
            ["up", "--port", str(port)],
            workdir / "up",
            extra_env={
                "BANDSTAND_DATABASES__MARKETPLACE": url,
                "BANDSTAND_PUBLIC_CACHE_SECONDS": "0",
            },
        )
        # As shipped: anonymous reads of the public lists may come from the 1 s response cache.
        shipped_port = h.free_port()
        shipped = h.bandstand_process(
            "shipped",
            ["up", "--port", str(shipped_port)],
            workdir / "shipped",
            extra_env={"BANDSTAND_DATABASES__MARKETPLACE": url},
        )
        original = h.Process(
            "original",
            [sys.executable, str(h.BENCH / "_original_search.py"), str(original_port), url],
            env=h.process_env(),
            workdir=workdir / "original",
        )
        runs: dict[str, Any] = {}
        with (
            h.started(up, port, "/ready"),
            h.started(shipped, shipped_port, "/ready"),
            h.started(original, original_port, "/docs"),
        ):
            cold = first_requests(port)
            print(f"  {engine}: first requests (ms) {cold}", file=sys.stderr, flush=True)
            counts = check(port, original_port)
            ours, theirs = varied.paths()
            checked = varied.check(port, url, sq.queries())
            print(f"  {engine}: varied queries checked {checked}", file=sys.stderr, flush=True)
            # Uncached first, then as shipped (anonymous, the response cache on).
            runs[f"varied search{NO_CACHE}"] = wrk(f"varied{NO_CACHE}", port, ours, args, tmp, up)
            runs["varied search"] = wrk("varied", shipped_port, ours, args, tmp, shipped)
            for name, paths in measured_paths():
                runs[name] = wrk(name, shipped_port, paths, args, tmp, shipped)
                runs[f"{name}{NO_CACHE}"] = wrk(f"{name}{NO_CACHE}", port, paths, args, tmp, up)
            sequential = one_at_a_time(port, original_port)
            print(f"  {engine}: one at a time (ms) {sequential}", file=sys.stderr, flush=True)
            # Last: the original's scans go on after wrk stops, until its process is stopped.
            runs["original"] = wrk(
                "original (substring scan)",
                original_port,
                original_paths(),
                args,
                tmp,
                original,
                duration=args.original_duration,
            )
            runs["original, varied searches"] = wrk(
                "original, varied",
                original_port,
                theirs,
                args,
                tmp,
                original,
                duration=args.original_duration,
            )
            memory = h.memory_of_tree(up.pid)
        # Distributed mode alone: the platforms above, idle but polling, are stopped first.
        for replicas, mode in ((1, ", distributed"), (2, ", distributed, two replicas")):
            name = f"varied search{mode}{NO_CACHE}"
            runs[name] = distributed_run(name, url, workdir, replicas, ours, args, tmp)
    finally:
        if server is not None:
            server.stop()
    return {
        "engine": engine,
        "import": imported,
        "search_index": indexed,
        "varied_check": checked,
        "first_requests_ms": cold,
        "one_at_a_time_ms": sequential,
        "counts": counts,
        "runs": runs,
        "memory": memory,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    engines = [engine.strip() for engine in args.engines.split(",") if engine.strip()]
    with tempfile.TemporaryDirectory(prefix="bench-marketplace-") as scratch:
        tmp = Path(scratch)
        csv_path = tmp / "listings.csv"
        if not args.database:
            with csv_path.open("w", encoding="utf-8", newline="") as out:
                gen_instruments.write(args.listings, out, "csv", seed=4)
        results = [measure_engine(engine, csv_path, args, tmp) for engine in engines]
    text = report(results, args)
    print(text)
    path = h.write_results(
        "marketplace_search",
        {"arguments": vars(args), "machine": h.machine_info(), "results": results},
    )
    print(f"\n(results in {path})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
