"""`GET /api/v1/courses/popular/`: the ranking kept in the platform cache against the same
ranking computed on every request, requests per second in the same run.

Per engine: the academy database is migrated by `bandstand migrate academy` and filled in bulk
(`--courses` courses of 8 lessons and `--enrollments` enrolments spread unevenly over them, the
same deterministic data on both engines). Two academy processes serve it, identical but for the
popular ranking's cache time: 60 s (the default) and 0 (computed on every request). Runs are
sequential, each after a warm-up, repeated `--rounds` times round-robin; medians reported. The
machine is shared and noisy: the ratio of the two, measured minutes apart, is the result.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import create_async_engine

import _harness as h
from _support import PostgresServer
from bandstand.academy.models import Course, Enrollment, Lesson

POPULAR = "/api/v1/courses/popular/"
SERVERS = ("cached", "uncached")
LESSONS_PER_COURSE = 8


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--courses", type=int, default=2_000)
    parser.add_argument("--enrollments", type=int, default=200_000)
    parser.add_argument("--engines", default="sqlite,postgres", help="comma-separated")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="repetitions (median reported)")
    h.common_arguments(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.courses, args.enrollments = 200, 10_000
        args.duration, args.warmup, args.rounds = 3.0, 1.0, 1
    return args


def prepare_database(engine: str, workdir: Path) -> tuple[str, Callable[[], None]]:
    """A migrated, empty academy database on `engine`; the URL and how to clean it up."""
    workdir.mkdir(parents=True, exist_ok=True)
    if engine == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / 'academy.sqlite3'}"
        cleanup: Callable[[], None] = lambda: None  # noqa: E731 - the temp dir goes anyway
    elif engine == "postgres":
        server = PostgresServer()
        server.start()
        server.create_database("academy_bench")
        url = server.url("academy_bench")
        cleanup = server.stop
    else:
        raise SystemExit(f"unknown engine {engine!r}: sqlite or postgres")
    migrate = [*h.bandstand_command(), "migrate", "academy", "--data-dir", str(workdir / "var")]
    env = h.process_env({"BANDSTAND_DATABASES__ACADEMY": url})
    subprocess.run(migrate, env=env, check=True, capture_output=True)
    return url, cleanup


def _chunks(rows: list[dict[str, Any]], size: int = 10_000) -> list[list[dict[str, Any]]]:
    return [rows[start : start + size] for start in range(0, len(rows), size)]


async def _load(url: str, courses: int, enrollments: int) -> dict[str, int]:
    """Courses with lessons, and enrolments whose number per course falls off like a power law
    (a few popular courses, a long tail), deterministic."""
    rng = random.Random(7)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    course_rows = [
        {
            "id": number,
            "title": f"Course {number:05}",
            "description": "A course of the benchmark catalogue.",
            "instructor_id": 1000 + number % 50,
            "difficulty_level": ("BEGINNER", "INTERMEDIATE", "ADVANCED")[number % 3],
            "duration_hours": 1 + number % 40,
            "price": Decimal(number % 90),
            "is_active": number % 20 != 0,
            "created_at": now,
            "updated_at": now,
        }
        for number in range(1, courses + 1)
    ]
    lesson_rows = [
        {
            "course_id": course,
            "title": f"Lesson {order}",
            "content": "",
            "video_url": "",
            "duration_minutes": 20,
            "order": order,
            "is_published": order <= LESSONS_PER_COURSE - 1,
            "created_at": now,
            "updated_at": now,
        }
        for course in range(1, courses + 1)
        for order in range(1, LESSONS_PER_COURSE + 1)
    ]
    weights = [1 / rank for rank in range(1, courses + 1)]
    pairs: set[tuple[int, int]] = set()
    user = 0
    while len(pairs) < enrollments:
        user += 1
        for course in set(rng.choices(range(1, courses + 1), weights=weights, k=3)):
            pairs.add((user, course))
    enrollment_rows = [
        {"user_id": u, "course_id": c, "enrolled_at": now + timedelta(seconds=i)}
        for i, (u, c) in enumerate(sorted(pairs)[:enrollments])
    ]
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            for table, rows in (
                (cast(Table, Course.__table__), course_rows),
                (cast(Table, Lesson.__table__), lesson_rows),
                (cast(Table, Enrollment.__table__), enrollment_rows),
            ):
                for chunk in _chunks(rows):
                    await connection.execute(insert(table), chunk)
    finally:
        await engine.dispose()
    return {
        "courses": len(course_rows),
        "lessons": len(lesson_rows),
        "enrollments": len(enrollment_rows),
    }


def academy_process(
    name: str, port: int, cache_seconds: float, url: str, workdir: Path
) -> h.Process:
    workdir.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, str(h.BENCH / "_academy_app.py"), str(port), f"{cache_seconds:g}"]
    env = h.process_env(
        {
            "BANDSTAND_DATABASES__ACADEMY": url,
            "BANDSTAND_DATA_DIR": str(workdir / "var"),
            "BANDSTAND_BROKER_URL": f"embedded://{workdir / 'broker.sqlite3'}",
        }
    )
    return h.Process(name, argv, env=env, workdir=workdir)


def check_response(port: int, courses: int) -> dict[str, Any]:
    """The measured page is the ranking it claims: 20 active courses, by enrolments."""
    status, body = h.http_request(port, "GET", POPULAR, timeout=60)
    page = json.loads(body)
    if status != 200 or len(page["results"]) != 20 or page["count"] != min(100, courses):
        raise RuntimeError(f"unexpected popular response {status}: {body[:300]!r}")
    counts = [course["enrollment_count"] for course in page["results"]]
    if counts != sorted(counts, reverse=True) or not all(c["is_active"] for c in page["results"]):
        raise RuntimeError("the ranking is not ordered by enrolments, or holds inactive courses")
    return {"top_enrollment_counts": counts[:3], "count": page["count"]}


def measure_engine(engine: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    workdir = tmp / engine
    url, cleanup = prepare_database(engine, workdir)
    try:
        loaded = asyncio.run(_load(url, args.courses, args.enrollments))
        print(f"  {engine}: loaded {loaded}", file=sys.stderr, flush=True)
        ports = {name: h.free_port() for name in SERVERS}
        processes = {
            "cached": academy_process("cached", ports["cached"], 60, url, workdir / "cached"),
            "uncached": academy_process(
                "uncached", ports["uncached"], 0, url, workdir / "uncached"
            ),
        }
        runs: dict[str, list[h.WrkResult]] = {name: [] for name in SERVERS}
        with (
            h.started(processes["cached"], ports["cached"], "/ready"),
            h.started(processes["uncached"], ports["uncached"], "/ready"),
        ):
            checked = check_response(ports["cached"], args.courses)
            if check_response(ports["uncached"], args.courses) != checked:
                raise RuntimeError("the cached and the uncached rankings differ")
            for round_number in range(1, args.rounds + 1):
                print(f"  {engine} round {round_number}/{args.rounds}", file=sys.stderr)
                for name in SERVERS:
                    target = f"http://{h.HOST}:{ports[name]}{POPULAR}"
                    result = h.measure_wrk(
                        target, args, connections=args.connections, servers=[processes[name]]
                    )
                    runs[name].append(result)
                    print(
                        f"    {name:9} {result.requests_per_s:9,.0f} req/s  "
                        f"p50 {result.p50:7.2f} ms  p99 {result.p99:7.2f} ms",
                        file=sys.stderr,
                        flush=True,
                    )
    finally:
        cleanup()
    return {
        "engine": engine,
        "loaded": loaded,
        "checked": checked,
        "runs": {name: [h.to_jsonable(r) for r in results] for name, results in runs.items()},
        "median": {name: h.median_result(results) for name, results in runs.items()},
    }


def report(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    rows = []
    for result in results:
        median = result["median"]
        uncached = median["uncached"]["requests_per_s"]
        for name in SERVERS:
            m = median[name]
            rows.append(
                [
                    result["engine"],
                    name,
                    f"{m['requests_per_s']:,.0f}",
                    f"{m['latency_ms']['p50']:.2f}",
                    f"{m['latency_ms']['p99']:.2f}",
                    f"{m['requests_per_s'] / uncached:.1f}x",
                    f"{m['cpu_us_per_request'].get('servers', 0.0):.0f}",
                    m["non_2xx_3xx"] + m["socket_errors"],
                ]
            )
    headers = [
        "engine",
        "ranking",
        "req/s",
        "p50 ms",
        "p99 ms",
        "vs uncached",
        "CPU µs/req",
        "errors",
    ]
    return "\n".join(
        [
            f"### {args.courses:,} courses, {args.enrollments:,} enrolments, "
            f"{args.connections} connections, {args.duration:g} s, median of {args.rounds}",
            "",
            h.markdown_table(headers, rows),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    engines = [engine.strip() for engine in args.engines.split(",") if engine.strip()]
    with tempfile.TemporaryDirectory(prefix="bench-academy-") as scratch:
        results = [measure_engine(engine, args, Path(scratch)) for engine in engines]
    text = report(results, args)
    print(text)
    path = h.write_results(
        "academy_popular",
        {"arguments": vars(args), "machine": h.machine_info(), "results": results},
    )
    print(f"\n(all runs in {path.relative_to(h.REPO)})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
