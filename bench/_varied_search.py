"""The varied-query workload of the marketplace benchmark: its correctness check against a plain
scan, the search index built by the command before the servers start, and the processes of
distributed mode (the marketplace and the gateway, each its own `bandstand serve`).

The plain scan is written here, apart from the service: every query word must start a word of
the listing's folded name (`' ' || search_text LIKE '% word%'`), with the same filters. Before
measuring, a sample of the queries is sent to the server and its count must equal the scan's,
and every listing of its first page must be one the scan found.
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import subprocess
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

import _harness as h
import _search_queries as sq
from bandstand.marketplace import text as folding
from bandstand.platform.threads import available_cores

SAMPLE = 30


def _scan_sql(query: dict[str, Any], sqlite: bool) -> tuple[str, dict[str, Any]]:
    terms: list[str] = []
    params: dict[str, Any] = {}
    for number, word in enumerate(folding.words(query["search"])):
        terms.append(f"(' ' || search_text) LIKE :w{number}")
        params[f"w{number}"] = f"% {word}%"
    today = datetime.now(UTC).date()
    terms.append("(expiration IS NULL OR expiration >= :today)")
    params["today"] = today.isoformat() if sqlite else today
    if "category" in query:
        terms.append("category_key = :category")
        params["category"] = folding.key(query["category"])
    for name, operator in (("min_price", ">="), ("max_price", "<=")):
        if name in query:
            terms.append(f"price {operator} :{name}")
            params[name] = float(query[name]) if sqlite else Decimal(query[name])
    return "SELECT id FROM instruments WHERE " + " AND ".join(terms), params  # noqa: S608


async def _scan(url: str, sample: list[dict[str, Any]]) -> list[set[int]]:
    engine = create_async_engine(url)
    sqlite = url.startswith("sqlite")
    try:
        found = []
        async with engine.connect() as connection:
            for query in sample:
                statement, params = _scan_sql(query, sqlite)
                rows = await connection.execute(text(statement), params)
                found.append({int(row[0]) for row in rows})
        return found
    finally:
        await engine.dispose()


def check(port: int, url: str, queries: list[dict[str, Any]]) -> dict[str, Any]:
    """A sample of `queries` answered by the server as the plain scan answers them."""
    sample = random.Random(sq.SEED).sample(queries, min(SAMPLE, len(queries)))
    expected = asyncio.run(_scan(url, sample))
    counts = []
    for query, matches in zip(sample, expected, strict=True):
        status, body = h.http_request(port, "GET", sq.path(query), timeout=120)
        if status != 200:
            raise RuntimeError(f"{query}: {status} {body[:200]!r}")
        page = json.loads(body)
        ids = {int(listing["id"]) for listing in page["results"]}
        if page["count"] != len(matches) or not ids <= matches:
            raise RuntimeError(f"{query}: {page['count']} found, the scan finds {len(matches)}")
        counts.append(len(matches))
    return {"queries": len(sample), "matches": sorted(counts)}


def build_index(url: str, workdirs: list[Path]) -> dict[str, Any]:
    """`bandstand index instruments` into the first data directory (timed), copied to the rest."""
    env = h.process_env({"BANDSTAND_DATABASES__MARKETPLACE": url})
    first = workdirs[0] / "var"
    argv = ["/usr/bin/time", "-f", "TIME %e %M", *h.bandstand_command()]
    argv += ["index", "instruments", "--data-dir", str(first)]
    started = time.monotonic()
    completed = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"index failed:\n{completed.stdout}\n{completed.stderr[-2000:]}")
    wall = time.monotonic() - started
    peak = next(
        (int(line.split()[2]) / 1024 for line in completed.stderr.splitlines() if "TIME" in line),
        0.0,
    )
    for other in workdirs[1:]:
        shutil.copytree(first / "search", other / "var" / "search", dirs_exist_ok=True)
    return {"seconds": round(wall, 1), "peak_rss_mib": round(peak)}


def paths() -> tuple[list[str], list[str]]:
    """The varied searches, as sent to the service and to the original."""
    queries = sq.queries()
    return [sq.path(query) for query in queries], [sq.original_path(q) for q in queries]


def distributed(
    url: str, workdir: Path, replicas: int = 1
) -> tuple[list[tuple[h.Process, int]], h.Process, int]:
    """`replicas` processes of `bandstand serve marketplace` sharing `workdir/serve` (its index
    copied there, into one slot per replica, so that none builds its own) and `bandstand serve
    gateway` balancing over them, the response cache off in all: ((service, its port) per
    replica, gateway, its port), not started."""
    uncached = {"BANDSTAND_PUBLIC_CACHE_SECONDS": "0"}
    # The replicas share the machine's cores, each its part (as `BANDSTAND_COMPUTING_THREADS`
    # is documented for replicas on one machine).
    threads = {"BANDSTAND_COMPUTING_THREADS": str(max(1, available_cores() // replicas))}
    root = workdir / "serve" / "var" / "search" / "marketplace-instruments"
    for number in range(1, replicas):
        slot = root / f"slot-{number}"
        if not slot.exists():
            shutil.copytree(root / "slot-0", slot)
    services = []
    for number in range(replicas):
        port = h.free_port()
        service = h.bandstand_process(
            f"serve marketplace {number + 1}",
            ["serve", "marketplace", "--port", str(port)],
            workdir / "serve",
            extra_env={"BANDSTAND_DATABASES__MARKETPLACE": url, **uncached, **threads},
        )
        services.append((service, port))
    urls = json.dumps([f"http://{h.HOST}:{port}" for _, port in services])
    gateway_port = h.free_port()
    gateway = h.bandstand_process(
        "serve gateway",
        ["serve", "gateway", "--port", str(gateway_port)],
        workdir / "gateway",
        extra_env={"BANDSTAND_SERVICE_URLS__MARKETPLACE": urls, **uncached},
    )
    return services, gateway, gateway_port
