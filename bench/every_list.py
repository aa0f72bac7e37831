"""Every list of the platform, signed in, at page size 50: what one page costs the server.

Target: no list costs more than 2 ms of server CPU per request at page size 50, every request
reaching the database (signed in: the response cache never answers a request with a token).

The platform runs as `bandstand up` (the gateway with every service in one process) on SQLite,
or with every service on PostgreSQL (`--engines postgres`). Its data is created through the API
by an admin: `--rows` songs, albums, concerts, movies, courses, instruments, settings, pictures
and orders; the audit log fills from the events of those writes, and the dead-letter list from
messages the billing worker cannot read. Each list is first checked to
answer a full page of 50, then read by wrk with the admin's token, after a warm-up; the CPU the
`bandstand up` process spent per request is read from /proc. Anonymous reads of the public
lists, which the response cache may answer, are reported second.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import http.client
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import _harness as h
from _results import write_results
from _support import PostgresServer
from bandstand.platform.messaging.embedded import EmbeddedBroker

PAGE = "page_size=50"
ADMIN, PASSWORD = "bench-admin", "correct horse battery staple 7"
TARGET_CPU_US = 2000.0
SERVICES = ("identity", "music", "concerts", "marketplace", "inventory", "billing", "academy")
SERVICES_WITH_ADMIN = (*SERVICES, "admin")


def _song(n: int) -> dict[str, Any]:
    return {
        "title": f"Song {n}",
        "artist": f"Artist {n % 97}",
        "genre": ("Rock", "Jazz", "Folk", "Pop")[n % 4],
        "file_url": f"https://cdn.example.com/songs/{n}.mp3",
        "duration": 120 + n % 200,
    }


BODIES: dict[str, Callable[[int], dict[str, Any]]] = {
    "/api/v1/songs": _song,
    "/api/v1/albums": lambda n: {"title": f"Album {n}", "artist": f"Band {n % 89}"},
    "/api/v1/concerts": lambda n: {
        "concert_name": f"Concert {n}",
        "duration": 90,
        "city": ("Lisbon", "Glasgow", "Porto")[n % 3],
        "date": f"2027-{1 + n % 12:02}-{1 + n % 28:02}T20:00:00Z",
    },
    "/api/v1/movies": lambda n: {
        "title": f"Movie {n}",
        "description": f"The story of movie {n}.",
        "release_year": 1990 + n % 35,
        "genres": ["Drama"],
    },
    "/api/v1/courses": lambda n: {"title": f"Course {n}", "is_active": True},
    "/api/v1/instruments": lambda n: {
        "name": f"Guitarra {n}",
        "price": f"{100 + n % 900}.00",
        "link": f"https://market.example/{n}",
        "website": "market.example",
        "category": "Guitarras",
    },
    "/api/v1/settings": lambda n: {"key": f"bench.setting.{n}", "value": str(n)},
    "/api/v1/pictures": lambda n: {
        "pic_url": f"https://cdn.example.com/pictures/{n}.jpg",
        "event_city": ("Lisbon", "Glasgow", "Porto")[n % 3],
        "event_date": f"2026-{1 + n % 12:02}-{1 + n % 28:02}",
    },
    "/api/v1/billing/orders": lambda n: {"number_of_items": 1 + n % 5, "total_amount": 9.99},
}
USERS = 60
"""Accounts registered (each costs an argon2id hash): more than a page."""
SIGNED_IN = (
    "/api/v1/songs",
    "/api/v1/songs?search=song",
    "/api/v1/albums",
    "/api/v1/concerts",
    "/api/v1/movies",
    "/api/v1/courses",
    "/api/v1/instruments",
    "/api/v1/instruments?search=guitarra",
    "/api/v1/settings",
    "/api/v1/billing/orders",
    "/api/v1/logs",
    "/api/v1/users",
    "/api/v1/pictures",
    "/api/v1/billing/dead-letters",
)
ANONYMOUS = ("/api/v1/songs", "/api/v1/movies", "/api/v1/instruments")
LUA = 'wrk.headers["Authorization"] = "Bearer {token}"\n'


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000, help="items created per list")
    parser.add_argument("--engines", default="sqlite,postgres", help="comma-separated")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of warm-up per run")
    parser.add_argument("--connections", type=int, default=16)
    h.common_arguments(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.duration, args.warmup = 120, 2.0, 0.5
    return args


def _with_page(path: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}{PAGE}"


def _call(port: int, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    connection = http.client.HTTPConnection(h.HOST, port, timeout=30)
    try:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        payload = None if body is None else json.dumps(body).encode()
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None
    finally:
        connection.close()


def create_data(port: int, token: str, rows: int) -> dict[str, int]:
    created: dict[str, int] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        for path, body in BODIES.items():
            bodies = [body(n) for n in range(rows)]
            statuses = list(pool.map(lambda b, p=path: _call(port, "POST", p, token, b)[0], bodies))
            failed = [status for status in statuses if status not in (200, 201, 202)]
            if failed:
                raise RuntimeError(f"creating {path}: {len(failed)} failed, e.g. {failed[0]}")
            created[path] = len(statuses)
        register = "/api/v1/register"
        answers = pool.map(
            lambda n: _call(port, "POST", register, token, _user(n))[0], range(USERS)
        )
        created[register] = sum(1 for status in answers if status == 201)
    return created


def _user(n: int) -> dict[str, str]:
    return {"username": f"listener{n}", "email": f"listener{n}@bench.example", "password": PASSWORD}


def wait_for_the_audit_log(port: int, token: str, timeout: float = 180.0) -> int:
    """Wait until the events of the writes are consumed (the audit log stops growing): the
    measurement is not to share the process with that work."""
    deadline = time.monotonic() + timeout
    last, stable_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        _, body = _call(port, "GET", "/api/v1/logs?page_size=1", token)
        count = int(body["count"])
        if count != last:
            last, stable_since = count, time.monotonic()
        elif time.monotonic() - stable_since >= 3.0:
            return count
        time.sleep(0.5)
    raise RuntimeError(f"the audit log was still growing after {timeout:g} s ({last} entries)")


def park_dead_letters(workdir: Path, count: int) -> None:
    """Put `count` messages no worker can read on billing_queue (the embedded broker of `bandstand
    up`): the billing worker dead-letters each at once, which fills the dead-letter list."""

    async def put() -> None:
        broker = EmbeddedBroker(workdir / "var" / "broker.sqlite3")
        await broker.connect()
        try:
            for n in range(count):
                body = f"not an order {n}".encode()
                await broker.publish_raw("billing_queue", body, message_id=f"bench-dead-{n}")
        finally:
            await broker.close()

    asyncio.run(put())


def wait_for_dead_letters(port: int, token: str, count: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, body = _call(port, "GET", "/api/v1/billing/dead-letters?limit=1", token)
        if int(body["count"]) >= count:
            return
        time.sleep(0.5)
    raise RuntimeError(f"fewer than {count} dead letters after {timeout:g} s")


def check_full_pages(port: int, token: str, paths: Iterator[str] | tuple[str, ...]) -> None:
    for path in paths:
        status, body = _call(port, "GET", _with_page(path), token)
        results = body.get("results") if isinstance(body, dict) else body
        if status != 200 or not isinstance(results, list) or len(results) != 50:
            raise RuntimeError(f"{path}: expected a full page of 50, got {status}: {body!r:.300}")


def create_superuser(workdir: Path, env: dict[str, str]) -> None:
    argv = [*h.bandstand_command(), "createsuperuser", "--username", ADMIN]
    argv += ["--email", "admin@bench.example", "--data-dir", str(workdir / "var")]
    completed = subprocess.run(
        argv,
        env=h.process_env({**env, "BANDSTAND_SUPERUSER_PASSWORD": PASSWORD}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"createsuperuser failed: {completed.stderr[-2000:]}")


def sign_in(port: int) -> str:
    status, body = h.http_request(
        port, "POST", "/api/v1/login", {"username": ADMIN, "password": PASSWORD}
    )
    if status != 200:
        raise RuntimeError(f"login failed {status}: {body!r:.300}")
    token: str = json.loads(body)["access_token"]
    return token


def measure_engine(engine: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    workdir = tmp / engine
    env: dict[str, str] = {}
    postgres = PostgresServer() if engine == "postgres" else None
    try:
        if postgres is not None:
            postgres.start()
            for service in SERVICES_WITH_ADMIN:
                postgres.create_database(f"bench_{service}")
                env[f"BANDSTAND_DATABASES__{service.upper()}"] = postgres.url(f"bench_{service}")
        workdir.mkdir(parents=True, exist_ok=True)
        create_superuser(workdir, env)
        port = h.free_port()
        up = h.bandstand_process("up", ["up", "--port", str(port)], workdir, extra_env=env)
        with h.started(up, port, "/ready"):
            token = sign_in(port)
            created = create_data(port, token, args.rows)
            park_dead_letters(workdir, USERS)
            wait_for_dead_letters(port, token, USERS)
            created["dead letters"] = USERS
            print(f"  {engine}: created {created}", file=sys.stderr, flush=True)
            token = sign_in(port)  # a fresh one, for the whole measurement
            created["audit entries"] = wait_for_the_audit_log(port, token)
            check_full_pages(port, token, SIGNED_IN)
            script = workdir / "signed-in.lua"
            script.write_text(LUA.format(token=token))
            results: dict[str, Any] = {"signed in": {}, "anonymous": {}}
            for path in SIGNED_IN:
                url = f"http://{h.HOST}:{port}{_with_page(path)}"
                run = h.measure_wrk(
                    url, args, connections=args.connections, servers=[up], script=script
                )
                results["signed in"][path] = h.median_result([run])
            for path in ANONYMOUS:
                url = f"http://{h.HOST}:{port}{_with_page(path)}"
                run = h.measure_wrk(url, args, connections=args.connections, servers=[up])
                results["anonymous"][path] = h.median_result([run])
        return {"created": created, "results": results}
    finally:
        if postgres is not None:
            postgres.stop()


def report(data: dict[str, Any]) -> str:
    lines = []
    for engine, measured in data["engines"].items():
        lines += [
            f"\n### {engine}: {data['rows']:,} items per list, page size 50, "
            f"{data['connections']} connections\n",
            "| list | who | req/s | p50 ms | p99 ms | server CPU per request | ≤ 2 ms | "
            "other cores |",
            "|---|---|---:|---:|---:|---:|---|---:|",
        ]
        for who, runs in measured["results"].items():
            for path, run in runs.items():
                cpu = run["cpu_us_per_request"]["servers"]
                verdict = "yes" if cpu <= TARGET_CPU_US else "**no**"
                lines.append(
                    f"| `{path}` | {who} | {run['requests_per_s']:,.0f} | "
                    f"{run['latency_ms']['p50']:.1f} | {run['latency_ms']['p99']:.1f} | "
                    f"{cpu / 1000:.2f} ms | {verdict if who == 'signed in' else '(cached)'} | "
                    f"{run['cpu_cores']['other']:.2f} |"
                )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data: dict[str, Any] = {
        "rows": args.rows,
        "connections": args.connections,
        "engines": {},
    }
    with tempfile.TemporaryDirectory(prefix="bench-lists-") as scratch:
        for engine in args.engines.split(","):
            data["engines"][engine] = measure_engine(engine, args, Path(scratch))
    write_results("every_list", data)
    print(report(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
