"""What one signed-in page of each list costs the server, in-process, one request at a time.

The platform as `bandstand up` mounts it (the gateway and every service in one process, on
SQLite, the response cache off), called as an ASGI app with no HTTP server and no network, so the
CPU measured is the request's own: the count, the page, its serialisation, the middleware and
the dependencies. An admin creates `--rows` items per list through the API (the bodies of
`every_list.py`), signs in, and reads each list at page size 50 with the token; each list is
read in `--rounds` rounds of 100 requests after a warm-up, and the median round is reported, as
CPU of the process per request (every thread). A quiet machine is not needed to compare two
revisions: run this on each, alternately, and compare the medians.

uv run python bench/list_request_cost.py [--rows 1000] [--rounds 5] [--engine postgres] [PATH ...]
(`--engine postgres`: every service on a private PostgreSQL server, as in `every_list.py`.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _support import PostgresServer, lifespan
from bandstand import registry
from bandstand.identity.commands import create_superuser
from bandstand.platform.migrations import upgrade_blocking
from bandstand.platform.runtime import Runtime
from bandstand.platform.settings import Settings
from every_list import ADMIN, BODIES, PASSWORD, SERVICES_WITH_ADMIN, USERS, _user

App = Callable[..., Any]
Header = tuple[bytes, bytes]
LISTS = (
    "/api/v1/songs",
    "/api/v1/songs?search=song 1",
    "/api/v1/albums",
    "/api/v1/pictures",
    "/api/v1/concerts",
    "/api/v1/movies",
    "/api/v1/courses",
    "/api/v1/instruments",
    "/api/v1/settings",
    "/api/v1/billing/orders",
    "/api/v1/users",
)


async def call(
    app: App, method: str, target: str, headers: list[Header], body: bytes = b""
) -> tuple[int, bytes]:
    """`method target` as a client on loopback would send it; the status and the body."""
    path, _, query = target.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.replace(" ", "+").encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8080"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return int(sent[0]["status"]), b"".join(m.get("body", b"") for m in sent[1:])


async def create_data(app: App, headers: list[Header], paths: list[str], rows: int) -> None:
    posting = [*headers, (b"content-type", b"application/json")]
    for path, body in BODIES.items():
        if any(target.split("?")[0] == path for target in paths):
            for n in range(rows):
                status, answer = await call(
                    app, "POST", path, posting, json.dumps(body(n)).encode()
                )
                assert status < 300, (path, status, answer[:300])
    if "/api/v1/users" in paths:  # more accounts than a page (each costs an argon2id hash)
        for n in range(USERS):
            account = json.dumps(_user(n)).encode()
            status, answer = await call(app, "POST", "/api/v1/register", posting, account)
            assert status == 201, answer[:300]


async def sign_in(app: App) -> list[Header]:
    credentials = json.dumps({"username": ADMIN, "password": PASSWORD}).encode()
    status, body = await call(
        app, "POST", "/api/v1/login", [(b"content-type", b"application/json")], credentials
    )
    assert status == 200, body
    return [(b"authorization", f"Bearer {json.loads(body)['access_token']}".encode())]


async def measure(app: App, headers: list[Header], target: str, rounds: int) -> float:
    """The median over `rounds` of the process's CPU per request, in ms."""
    page = f"{target}{'&' if '?' in target else '?'}page_size=50"
    for _ in range(50):
        status, body = await call(app, "GET", page, headers)
    assert status == 200, (page, status, body[:300])
    per_round = []
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(100):
            await call(app, "GET", page, headers)
        per_round.append((time.process_time() - started) * 10)
    return statistics.median(per_round)


async def main(settings: Settings, paths: list[str], rows: int, rounds: int) -> None:
    await create_superuser(settings, ADMIN, "bench-admin@example.com", PASSWORD)
    app = registry.embedded_gateway(Runtime(settings))
    async with lifespan(app):
        headers = await sign_in(app)
        await create_data(app, headers, paths, rows)
        print(f"{'list, page size 50, signed in':45} CPU ms per request (median of {rounds})")
        for target in paths:
            print(f"{target:45} {await measure(app, headers, target, rounds):6.2f}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000, help="items created per list")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("paths", nargs="*", default=list(LISTS))
    args = parser.parse_args()
    postgres = PostgresServer() if args.engine == "postgres" else None
    databases: dict[str, str] = {}
    try:
        if postgres is not None:
            postgres.start()
            for service in SERVICES_WITH_ADMIN:
                postgres.create_database(f"bench_{service}")
                databases[service] = postgres.url(f"bench_{service}")
        given = Settings(
            data_dir=Path(tempfile.mkdtemp(prefix="bandstand-list-cost-")),
            databases=databases,
            public_cache_seconds=0,
            access_log=False,
            log_level="WARNING",
        )
        for name in registry.with_database():
            upgrade_blocking(given.database_url(name), name, registry.service(name).migrations)
        asyncio.run(main(given, args.paths, args.rows, args.rounds))
    finally:
        if postgres is not None:
            postgres.stop()
