"""The song list at scale: 100,000 songs and 1,000,000 likes, against the framework's ceiling.

Targets (through the gateway, 32 connections, on SQLite and on PostgreSQL):
  GET /api/v1/songs?page_size=50&ordering=-likes keeps >= 50% of the throughput of a bare FastAPI
  endpoint returning 50 prebuilt song objects (the ceiling), and p99 <= 50 ms;
  the list and GET /api/v1/songs?page_size=50&search=... signed in (or the cache off) keep
  >= 30% of it, in `bandstand up` and distributed, p99 <= 50 ms.

Per engine: the music database is migrated by `bandstand migrate music`, filled in bulk (the
same deterministic catalogue on both engines), analysed, then served by `bandstand up` (the
gateway with every service in-process). The ceiling runs as its own uvicorn process. Runs are
sequential, each after a warm-up, repeated `--rounds` times round-robin; medians reported.
"Signed in" reads carry an admin's token (so `liked_by_me` is computed, and the response cache
never answers) from the server whose response cache is off; "distributed", the same through
`bandstand serve gateway` in front of `bandstand serve music` and `serve identity`, each its own
process (their CPU counted together).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import _harness as h
import _music_data as data
from bandstand.music.search import normalize
from every_list import LUA, create_superuser, sign_in

LIST = "/api/v1/songs?page_size=50&ordering=-likes"
CEILING = "/songs"
PATHS = (
    "ceiling",
    "list, signed in",
    "search, signed in",
    "list, no cache",
    "search, no cache",
    "list",
    "search",
    "list, signed in, distributed",
    "search, signed in, distributed",
)
SIGNED_IN = ("list, signed in", "search, signed in")
DISTRIBUTED = tuple(f"{name}, distributed" for name in SIGNED_IN)
TARGET_RATIO = 0.50
"""Of the list as shipped (answered from the response cache when it can)."""
TARGET_RATIO_UNCACHED = 0.30
"""Of every read that reaches the database (the cache off, or signed in)."""
TARGET_P99_MS = 50.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=100_000)
    parser.add_argument("--likes", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,postgres", help="comma-separated")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="repetitions (median reported)")
    h.common_arguments(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.songs, args.likes = 5_000, 50_000
        args.duration, args.warmup, args.rounds = 3.0, 1.0, 1
    return args


def ceiling_process(workdir: Path, port: int, songs: int) -> h.Process:
    """The ceiling, its page as full as ours: `songs` or 50."""
    argv = [sys.executable, str(h.BENCH / "_ceiling_app.py"), str(port), str(min(songs, 50))]
    return h.Process("ceiling", argv, env=h.process_env(), workdir=workdir)


def search_path(songs: int) -> str:
    return f"/api/v1/songs?page_size=50&search={data.search_term(songs)}"


def distributed_processes(url: str, workdir: Path) -> tuple[list[tuple[h.Process, int]], int]:
    """`bandstand serve` of identity and music (its response cache off) and of the gateway in
    front of them, each a process with its own data directory: ((process, port) each, the
    gateway last; the gateway's port), not started. Music verifies tokens with identity's keys."""
    ports = {name: h.free_port() for name in ("identity", "music", "gateway")}
    address = {name: f"http://{h.HOST}:{port}" for name, port in ports.items()}
    env = {
        "BANDSTAND_DATABASES__MUSIC": url,
        "BANDSTAND_PUBLIC_CACHE_SECONDS": "0",
        "BANDSTAND_JWKS_URL": f"{address['identity']}/.well-known/jwks.json",
        "BANDSTAND_SERVICE_URLS__IDENTITY": json.dumps([address["identity"]]),
        "BANDSTAND_SERVICE_URLS__MUSIC": json.dumps([address["music"]]),
    }
    processes = [
        (
            h.bandstand_process(
                f"serve {name}",
                ["serve", name, "--port", str(port)],
                workdir / f"serve-{name}",
                extra_env=env,
            ),
            port,
        )
        for name, port in ports.items()
    ]
    return processes, ports["gateway"]


def check_responses(port: int, songs: int) -> dict[str, Any]:
    """The measured pages are what they claim: full, ordered, counted, matching the search."""
    status, body = h.http_request(port, "GET", LIST, timeout=30)
    page = json.loads(body)
    if status != 200 or page["count"] != songs or len(page["results"]) != min(songs, 50):
        raise RuntimeError(f"unexpected list response {status}: {body[:300]!r}")
    counts = [song["like_count"] for song in page["results"]]
    if counts != sorted(counts, reverse=True):
        raise RuntimeError("the list is not ordered by likes")
    status, body = h.http_request(port, "GET", search_path(songs), timeout=30)
    found = json.loads(body)
    if status != 200 or not found["results"]:
        raise RuntimeError(f"unexpected search response {status}: {body[:300]!r}")
    term = data.search_term(songs)
    for song in found["results"]:
        if term not in normalize(f"{song['title']} {song['artist']}"):
            raise RuntimeError(f"search returned a song that does not match: {song['title']}")
    # The page is the first matches in id order, as a plain scan of the catalogue finds them.
    scanned = [row["id"] for row in data.song_rows(songs, Counter()) if term in row["search_text"]]
    if [song["id"] for song in found["results"]] != scanned[:50] or found["count"] != len(scanned):
        raise RuntimeError(f"the search for {term!r} is not the plain scan's first page and count")
    return {"list_count": page["count"], "search_term": term, "search_count": found["count"]}


def measure_engine(engine: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    workdir = tmp / engine
    url, cleanup = data.prepare_database(engine, workdir)
    try:
        loaded = data.load(engine, url, workdir, songs=args.songs, likes=args.likes)
        print(f"  {engine}: loaded {loaded}", file=sys.stderr, flush=True)
        port, uncached_port, ceiling_port = h.free_port(), h.free_port(), h.free_port()
        server = h.bandstand_process(
            "bandstand",
            ["up", "--port", str(port)],
            workdir / "up",
            extra_env={"BANDSTAND_DATABASES__MUSIC": url},
        )
        # The same, with the public response cache off: every request reaches the database.
        uncached = h.bandstand_process(
            "uncached",
            ["up", "--port", str(uncached_port)],
            workdir / "up-uncached",
            extra_env={"BANDSTAND_DATABASES__MUSIC": url, "BANDSTAND_PUBLIC_CACHE_SECONDS": "0"},
        )
        create_superuser(workdir / "up-uncached", {"BANDSTAND_DATABASES__MUSIC": url})
        ceiling = ceiling_process(workdir / "ceiling", ceiling_port, args.songs)
        serving, gateway_port = distributed_processes(url, workdir)
        create_superuser(workdir / "serve-identity", {})
        runs: dict[str, list[h.WrkResult]] = {name: [] for name in PATHS}
        with contextlib.ExitStack() as stack:
            for process, process_port, ready in (
                (server, port, "/ready"),
                (uncached, uncached_port, "/ready"),
                (ceiling, ceiling_port, CEILING),
                # The gateway's /ready asks every service, and only two serve here.
                *((process, process_port, "/ready") for process, process_port in serving[:-1]),
                (serving[-1][0], gateway_port, "/health/"),
            ):
                stack.enter_context(h.started(process, process_port, ready))
            checked = check_responses(port, args.songs)
            check_responses(uncached_port, args.songs)
            check_responses(gateway_port, args.songs)
            signed_in = workdir / "signed-in.lua"
            signed_in.write_text(LUA.format(token=sign_in(uncached_port)))
            signed_in_distributed = workdir / "signed-in-distributed.lua"
            signed_in_distributed.write_text(LUA.format(token=sign_in(gateway_port)))
            no_cache = f"http://{h.HOST}:{uncached_port}"
            distributed = f"http://{h.HOST}:{gateway_port}"
            behind = [process for process, _ in serving]
            search = search_path(args.songs)
            targets = {
                "ceiling": (f"http://{h.HOST}:{ceiling_port}{CEILING}", ceiling, None),
                "list, signed in": (f"{no_cache}{LIST}", uncached, signed_in),
                "search, signed in": (f"{no_cache}{search}", uncached, signed_in),
                "list, no cache": (f"{no_cache}{LIST}", uncached, None),
                "search, no cache": (f"{no_cache}{search}", uncached, None),
                "list": (f"http://{h.HOST}:{port}{LIST}", server, None),
                "search": (f"http://{h.HOST}:{port}{search}", server, None),
            }
            through_gateway = {
                "list, signed in, distributed": f"{distributed}{LIST}",
                "search, signed in, distributed": f"{distributed}{search}",
            }
            for round_number in range(1, args.rounds + 1):
                print(f"  {engine} round {round_number}/{args.rounds}", file=sys.stderr)
                measured = [
                    (name, target, [process], script)
                    for name, (target, process, script) in targets.items()
                ] + [
                    (name, target, behind, signed_in_distributed)
                    for name, target in through_gateway.items()
                ]
                for name, target, processes, script in measured:
                    result = h.measure_wrk(
                        target, args, connections=args.connections, servers=processes, script=script
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


def ceiling_ratio(result: dict[str, Any], name: str) -> float:
    """The median of each round's req/s of `name` over the ceiling's in the same round: the
    machine moves between rounds, and a round's runs are minutes apart at most."""
    ceilings = [float(run["requests_per_s"]) for run in result["runs"]["ceiling"]]
    ours = [float(run["requests_per_s"]) for run in result["runs"][name]]
    return statistics.median(o / c for o, c in zip(ours, ceilings, strict=False))


def report(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    rows, verdicts = [], []
    for result in results:
        median = result["median"]
        for name in PATHS:
            m = median[name]
            rows.append(
                [
                    result["engine"],
                    name,
                    f"{m['requests_per_s']:,.0f}",
                    f"{m['latency_ms']['p50']:.2f}",
                    f"{m['latency_ms']['p99']:.2f}",
                    f"{ceiling_ratio(result, name):.1%}",
                    f"{m['cpu_us_per_request'].get('servers', 0.0):.0f}",
                    m["non_2xx_3xx"] + m["socket_errors"],
                ]
            )
        for name in ("list", "list, no cache", *SIGNED_IN, *DISTRIBUTED):
            ratio = ceiling_ratio(result, name)
            target = TARGET_RATIO if name == "list" else TARGET_RATIO_UNCACHED
            verdicts.append(
                [
                    result["engine"],
                    f"{name}: ≥ {target:.0%} of ceiling req/s",
                    f"{ratio:.1%}",
                    h.verdict(ratio >= target),
                ]
            )
        for name in PATHS[1:]:
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
    return "\n".join(
        [
            f"### {args.songs:,} songs, {args.likes:,} likes, {args.connections} connections, "
            f"{args.duration:g} s, median of {args.rounds}",
            "",
            h.markdown_table(headers, rows),
            "",
            h.markdown_table(["engine", "target", "measured", "result"], verdicts),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    engines = [engine.strip() for engine in args.engines.split(",") if engine.strip()]
    with tempfile.TemporaryDirectory(prefix="bench-music-") as scratch:
        results = [measure_engine(engine, args, Path(scratch)) for engine in engines]
    text = report(results, args)
    print(text)
    path = h.write_results(
        "music_catalogue",
        {"arguments": vars(args), "machine": h.machine_info(), "results": results},
    )
    print(f"\n(all runs in {path.relative_to(h.REPO)})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
