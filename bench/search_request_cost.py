"""What one uncached search costs the server, in-process, one request at a time: the whole
platform as `bandstand up` mounts it (the gateway and every service, the response cache off),
called as an ASGI app with no HTTP server and no network, so the CPU is the request's own.

For each of the 1,200 varied searches (`_search_queries`, default order, 50 a page), and for
as many reads of one listing by id (`GET /api/v1/instruments/{id}`: a request that reaches the
database for one row, the floor of any request through this stack), the CPU time of the process
per request (every thread: the event loop, the database driver's and the search's threads) and
of the event loop's thread alone (the one a single process cannot spread over cores).

uv run python bench/search_request_cost.py DATABASE_URL DATA_DIR
(DATA_DIR holds the index, `bandstand index instruments --data-dir DATA_DIR`, as for
`search_inprocess.py`; the other services' databases are created there.)
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _search_queries as sq
from _support import lifespan
from bandstand import registry
from bandstand.platform.migrations import upgrade_blocking
from bandstand.platform.runtime import Runtime
from bandstand.platform.settings import Settings

App = Callable[..., Any]


async def get(app: App, target: str) -> int:
    """GET `target` from `app` as a client on loopback would; the status. A bare ASGI call, not
    the tests' httpx client, so that the process's CPU is the request's own."""
    path, _, query = target.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8080")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return int(sent[0]["status"])


async def measure(app: App, name: str, targets: list[str]) -> None:
    for target in targets[:100]:  # warm-up
        await get(app, target)
    process, thread, walls = [], [], []
    for target in targets:
        cpu, loop, wall = time.process_time(), time.thread_time(), time.perf_counter()
        status = await get(app, target)
        walls.append((time.perf_counter() - wall) * 1000)
        process.append((time.process_time() - cpu) * 1000)
        thread.append((time.thread_time() - loop) * 1000)
        assert status < 500, (target, status)
    print(
        f"{name:28} CPU per request {statistics.mean(process):5.2f} ms "
        f"(event loop's thread {statistics.mean(thread):5.2f} ms); "
        f"wall p50 {statistics.median(walls):5.2f} ms ({len(targets)} requests)"
    )


async def main(settings: Settings) -> None:
    app = registry.embedded_gateway(Runtime(settings))
    async with lifespan(app):
        searches = [sq.path(query) for query in sq.queries()]
        listings = [f"/api/v1/instruments/{n}" for n in range(1, len(searches) + 1)]
        await measure(app, "varied search, uncached", searches)
        await measure(app, "one listing by id", listings)


if __name__ == "__main__":
    data_dir = Path(sys.argv[2])
    given = Settings(
        data_dir=data_dir,
        databases={"marketplace": sys.argv[1]},
        public_cache_seconds=0,
        access_log=False,
        log_level="WARNING",
    )
    for name in registry.with_database():
        upgrade_blocking(given.database_url(name), name, registry.service(name).migrations)
    asyncio.run(main(given))
