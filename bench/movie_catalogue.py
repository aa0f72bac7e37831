"""The movie list at scale: 100,000 movies, against the framework's ceiling.

Targets (through the gateway, 32 connections, on SQLite and on PostgreSQL):
  GET /api/v1/movies?page_size=50 keeps >= 50% of the throughput of a bare FastAPI endpoint
  returning 50 prebuilt movie objects (the ceiling), and p99 <= 50 ms;
  GET /api/v1/movies?page_size=50&title=... (accent- and case-insensitive) p99 <= 50 ms.

Per engine: the inventory database is migrated by `bandstand migrate inventory`, filled in bulk
(the same deterministic catalogue on both engines: 100,000 movies with one to three genres
each), analysed, then served by `bandstand up` (the gateway with every service in-process),
once as shipped and once with the public response cache off. The ceiling runs as its own
uvicorn process. Runs are sequential, each after a warm-up, repeated `--rounds` times
round-robin; medians reported.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, create_engine, text

import _harness as h
import _music_data
from _support import PostgresServer
from bandstand.inventory.models import InventoryBase
from bandstand.platform.text_search import normalize

SEARCH_TERM = "corazon"  # matches "Corazón": accents and case are ignored
LIST = "/api/v1/movies?page_size=50"
SEARCH = f"/api/v1/movies?page_size=50&title={SEARCH_TERM}"
CEILING = "/movies"
PATHS = ("ceiling", "list, no cache", "search, no cache", "list", "search")
TARGET_RATIO = 0.50
TARGET_P99_MS = 50.0
SEED = 20261201
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
# The music benchmark's title words: accented and plain, the same search term finds them.
WORDS = _music_data.WORDS
GENRES = [
    "Drama",
    "Comedy",
    "Thriller",
    "Documentary",
    "Romance",
    "Science-Fiction",
    "Horror",
    "Animation",
    "Family",
    "Musical",
    "Mystery",
    "Adventure",
    "Crime",
    "Fantasy",
    "Biography",
    "Historical",
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--movies", type=int, default=100_000)
    parser.add_argument("--engines", default="sqlite,postgres", help="comma-separated")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per wrk run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="repetitions (median reported)")
    h.common_arguments(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.movies = 5_000
        args.duration, args.warmup, args.rounds = 3.0, 1.0, 1
    return args


# --- the catalogue ------------------------------------------------------------------------------


def prepare_database(engine: str, workdir: Path) -> tuple[str, Callable[[], None]]:
    """A migrated, empty inventory database on `engine`; the URL and how to clean it up."""
    workdir.mkdir(parents=True, exist_ok=True)
    if engine == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / 'inventory.sqlite3'}"
        cleanup: Callable[[], None] = lambda: None  # noqa: E731 - the temp dir goes anyway
    elif engine == "postgres":
        server = PostgresServer()
        server.start()
        server.create_database("inventory_bench")
        url = server.url("inventory_bench")
        cleanup = server.stop
    else:
        raise SystemExit(f"unknown engine {engine!r}: sqlite or postgres")
    migrate = [*h.bandstand_command(), "migrate", "inventory", "--data-dir", str(workdir / "var")]
    env = h.process_env({"BANDSTAND_DATABASES__INVENTORY": url})
    subprocess.run(migrate, env=env, check=True, capture_output=True)
    return url, cleanup


def catalogue(count: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Movie rows and genre rows, with the keys computed as the service computes them."""
    rng = random.Random(SEED)
    movies, genres = [], []
    for movie_id in range(1, count + 1):
        title = " ".join(rng.sample(WORDS, rng.choice((2, 2, 3))))
        created = EPOCH + timedelta(minutes=movie_id)
        movies.append(
            {
                "id": movie_id,
                "title": title,
                "title_key": normalize(title),
                "description": f"{title}: a story told in {rng.randint(2, 9)} acts.",
                "release_year": rng.choice([None, *range(1950, 2027)]),
                "duration_minutes": rng.randint(70, 190),
                "created_at": created,
                "updated_at": created,
            }
        )
        for position, name in enumerate(rng.sample(GENRES, rng.randint(1, 3))):
            genres.append(
                {
                    "movie_id": movie_id,
                    "position": position,
                    "name": name,
                    "name_key": normalize(name),
                }
            )
    return movies, genres


def _chunks(rows: list[dict[str, Any]], size: int = 20_000) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def load(engine: str, url: str, count: int) -> dict[str, int]:
    movies, genres = catalogue(count)
    tables = InventoryBase.metadata.tables
    batches = [(tables["movies"], movies), (tables["movie_genres"], genres)]
    if engine == "sqlite":
        _load_sqlite(url, batches)
    else:
        asyncio.run(_load_postgres(url, batches))
    return {"movies": len(movies), "genres": len(genres)}


def _load_sqlite(url: str, batches: list[tuple[Table, list[dict[str, Any]]]]) -> None:
    engine = create_engine(url.replace("+aiosqlite", ""))
    with engine.begin() as connection:
        for table, rows in batches:
            for chunk in _chunks(rows):
                connection.execute(table.insert(), chunk)
    with engine.connect() as connection:
        connection.execute(text("ANALYZE"))
        connection.commit()
    engine.dispose()


async def _load_postgres(url: str, batches: list[tuple[Table, list[dict[str, Any]]]]) -> None:
    import asyncpg

    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        for table, rows in batches:
            for chunk in _chunks(rows):
                columns = list(chunk[0])
                records = [tuple(row[name] for name in columns) for row in chunk]
                await connection.copy_records_to_table(table.name, records=records, columns=columns)
        await connection.execute(
            "SELECT setval(pg_get_serial_sequence('movies', 'id'), (SELECT max(id) FROM movies))"
        )
        # As autovacuum would have done on a live database: statistics and the visibility map
        # (which lets the count read the primary key's index alone).
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


# --- the runs -----------------------------------------------------------------------------------


def ceiling_process(workdir: Path, port: int) -> h.Process:
    argv = [sys.executable, str(h.BENCH / "_ceiling_app.py"), str(port)]
    return h.Process("ceiling", argv, env=h.process_env(), workdir=workdir)


def check_responses(port: int, movies: int) -> dict[str, Any]:
    """The measured pages are what they claim: full, ordered, counted, matching the search."""
    status, body = h.http_request(port, "GET", LIST, timeout=30)
    page = json.loads(body)
    if status != 200 or page["count"] != movies or len(page["results"]) != 50:
        raise RuntimeError(f"unexpected list response {status}: {body[:300]!r}")
    ids = [movie["id"] for movie in page["results"]]
    if ids != sorted(ids) or not all(movie["genres"] for movie in page["results"]):
        raise RuntimeError("the list is not ordered by id, or lacks genres")
    status, body = h.http_request(port, "GET", SEARCH, timeout=30)
    found = json.loads(body)
    if status != 200 or not found["results"]:
        raise RuntimeError(f"unexpected search response {status}: {body[:300]!r}")
    for movie in found["results"]:
        if SEARCH_TERM not in normalize(movie["title"]):
            raise RuntimeError(f"search returned a movie that does not match: {movie['title']}")
    return {"list_count": page["count"], "search_count": found["count"]}


def measure_engine(engine: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    workdir = tmp / engine
    url, cleanup = prepare_database(engine, workdir)
    try:
        loaded = load(engine, url, args.movies)
        print(f"  {engine}: loaded {loaded}", file=sys.stderr, flush=True)
        port, uncached_port, ceiling_port = h.free_port(), h.free_port(), h.free_port()
        database = {"BANDSTAND_DATABASES__INVENTORY": url}
        server = h.bandstand_process(
            "bandstand", ["up", "--port", str(port)], workdir / "up", extra_env=database
        )
        # The same, with the public response cache off: every request reaches the database.
        uncached = h.bandstand_process(
            "uncached",
            ["up", "--port", str(uncached_port)],
            workdir / "up-uncached",
            extra_env={**database, "BANDSTAND_PUBLIC_CACHE_SECONDS": "0"},
        )
        ceiling = ceiling_process(workdir / "ceiling", ceiling_port)
        runs: dict[str, list[h.WrkResult]] = {name: [] for name in PATHS}
        with (
            h.started(server, port, "/ready"),
            h.started(uncached, uncached_port, "/ready"),
            h.started(ceiling, ceiling_port, CEILING),
        ):
            checked = check_responses(port, args.movies)
            check_responses(uncached_port, args.movies)
            targets = {
                "ceiling": (f"http://{h.HOST}:{ceiling_port}{CEILING}", ceiling),
                "list, no cache": (f"http://{h.HOST}:{uncached_port}{LIST}", uncached),
                "search, no cache": (f"http://{h.HOST}:{uncached_port}{SEARCH}", uncached),
                "list": (f"http://{h.HOST}:{port}{LIST}", server),
                "search": (f"http://{h.HOST}:{port}{SEARCH}", server),
            }
            for round_number in range(1, args.rounds + 1):
                print(f"  {engine} round {round_number}/{args.rounds}", file=sys.stderr)
                for name, (target, process) in targets.items():
                    result = h.measure_wrk(
                        target, args, connections=args.connections, servers=[process]
                    )
                    runs[name].append(result)
                    print(
                        f"    {name:16} {result.requests_per_s:9,.0f} req/s  "
                        f"p50 {result.p50:7.2f} ms  p99 {result.p99:7.2f} ms",
                        file=sys.stderr,
                        flush=True,
                    )
            memory = h.memory_of_tree(server.pid)
    finally:
        cleanup()
    return {
        "engine": engine,
        "loaded": loaded,
        "checked": checked,
        "memory": memory,
        "runs": {name: [h.to_jsonable(r) for r in results] for name, results in runs.items()},
        "median": {name: h.median_result(results) for name, results in runs.items()},
    }


def report(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    rows, verdicts = [], []
    for result in results:
        median = result["median"]
        ceiling = median["ceiling"]["requests_per_s"]
        for name in PATHS:
            m = median[name]
            rows.append(
                [
                    result["engine"],
                    name,
                    f"{m['requests_per_s']:,.0f}",
                    f"{m['latency_ms']['p50']:.2f}",
                    f"{m['latency_ms']['p99']:.2f}",
                    f"{m['requests_per_s'] / ceiling:.0%}",
                    f"{m['cpu_us_per_request'].get('servers', 0.0):.0f}",
                    m["non_2xx_3xx"] + m["socket_errors"],
                ]
            )
        for name in ("list", "list, no cache"):
            ratio = median[name]["requests_per_s"] / ceiling
            verdicts.append(
                [
                    result["engine"],
                    f"{name}: ≥ 50% of ceiling req/s",
                    f"{ratio:.0%}",
                    h.verdict(ratio >= TARGET_RATIO),
                ]
            )
        for name in ("list", "search", "list, no cache", "search, no cache"):
            p99 = median[name]["latency_ms"]["p99"]
            verdicts.append(
                [
                    result["engine"],
                    f"{name}: p99 ≤ 50 ms",
                    f"{p99:.1f} ms",
                    h.verdict(p99 <= TARGET_P99_MS),
                ]
            )
    headers = ["engine", "path", "req/s", "p50 ms", "p99 ms", "vs ceiling", "CPU µs/req", "errors"]
    searched = ", ".join(
        f"{result['engine']}: {result['checked']['search_count']:,}" for result in results
    )
    return "\n".join(
        [
            f"### {args.movies:,} movies, {args.connections} connections, {args.duration:g} s, "
            f"median of {args.rounds} (search matches {searched})",
            "",
            h.markdown_table(headers, rows),
            "",
            h.markdown_table(["engine", "target", "measured", "result"], verdicts),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    engines = [engine.strip() for engine in args.engines.split(",") if engine.strip()]
    with tempfile.TemporaryDirectory(prefix="bench-movies-") as scratch:
        results = [measure_engine(engine, args, Path(scratch)) for engine in engines]
    text_report = report(results, args)
    print(text_report)
    path = h.write_results(
        "movie_catalogue",
        {"arguments": vars(args), "machine": h.machine_info(), "results": results},
    )
    print(f"\n(all runs in {path.relative_to(h.REPO)})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
