"""`bandstand up`: time from spawn to healthy, and resident memory once idle.

Targets: the first 200 of `/health/` and of `/ready` within 3 s of the spawn; at most 250 MB
resident for the process and all its children, read once it is ready and has been idle 2 s.
Each start gets a fresh data directory, so it generates the signing key and runs every
migration; a second start on the same directory (a restart) is measured too. Baseline in the
same run: a minimal uvicorn app started with `python -c`.

One more series starts a single service alone (`bandstand serve music`, as each replica of the
distributed mode starts), for the time a replica takes to come back.

Processes read compiled bytecode from `bench/results/pycache` (see `_harness.process_env`);
one extra series starts with no bytecode at all, which is what a fresh checkout run with
PYTHONDONTWRITEBYTECODE=1 pays.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _harness as h

TARGET_SECONDS = 3.0
TARGET_MB = 250.0
IDLE_SECONDS = 2.0
PATHS = ("/health/", "/ready")

MINIMAL_APP = """\
import sys
import uvicorn

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), lifespan="off", log_level="warning")
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="starts per series")
    h.common_arguments(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat = 1
    return args


def first_200s(
    process: h.Process, port: int, paths: tuple[str, ...], timeout: float = 60.0
) -> dict[str, float]:
    """Seconds from spawn to the first 200 of each path, polling every 10 ms."""
    seen: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    while len(seen) < len(paths):
        for path in paths:
            if path not in seen and h.http_status(port, path, timeout=2.0) == 200:
                seen[path] = time.perf_counter() - process.spawned_at
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{process.name}: no 200 within {timeout:.0f} s\n{process.log_tail()}"
            )
        if not process.alive():
            raise RuntimeError(f"{process.name} exited:\n{process.log_tail()}")
        if len(seen) < len(paths):
            time.sleep(0.01)
    return seen


def one_start(process: h.Process, port: int, paths: tuple[str, ...]) -> dict[str, Any]:
    with process:
        times = first_200s(process, port, paths)
        time.sleep(IDLE_SECONDS)
        memory = h.memory_of_tree(process.pid)
    return {"seconds": times, **memory}


def bandstand_series(
    label: str,
    args: argparse.Namespace,
    *,
    bytecode_cache: bool,
    restart: bool,
    command: tuple[str, ...] = ("up",),
) -> list[dict[str, Any]]:
    runs = []
    for number in range(1, args.repeat + 1):
        h.settle(args)
        with tempfile.TemporaryDirectory(prefix="bench-startup-") as scratch:
            workdir = Path(scratch)
            starts = ["fresh", "restart"] if restart else ["fresh"]
            for kind in starts:
                port = h.free_port()
                process = h.bandstand_process(
                    f"{command[0]}-{kind}",
                    [*command, "--port", str(port)],
                    workdir,
                    bytecode_cache=bytecode_cache,
                )
                run: dict[str, Any] = {
                    "series": label if kind == "fresh" else f"{label}, restart",
                    "n": number,
                }
                run.update(one_start(process, port, PATHS))
                runs.append(run)
                print(
                    f"  {run['series']:<32} #{number}: health {run['seconds']['/health/']:.2f} s"
                    f" ready {run['seconds']['/ready']:.2f} s rss {run['rss_mib']:.1f} MiB"
                    f" ({run['processes']} processes)",
                    file=sys.stderr,
                    flush=True,
                )
    return runs


def prime_bytecode() -> None:
    """One untimed start of each program, so the measured ones find their bytecode compiled."""
    with tempfile.TemporaryDirectory(prefix="bench-prime-") as scratch:
        workdir = Path(scratch)
        port = h.free_port()
        one_start(h.bandstand_process("prime", ["up", "--port", str(port)], workdir), port, PATHS)
        port = h.free_port()
        argv = [sys.executable, "-c", MINIMAL_APP, str(port)]
        one_start(
            h.Process("prime-uvicorn", argv, env=h.process_env(), workdir=workdir), port, ("/",)
        )


def baseline_series(args: argparse.Namespace) -> list[dict[str, Any]]:
    runs = []
    for number in range(1, args.repeat + 1):
        h.settle(args)
        with tempfile.TemporaryDirectory(prefix="bench-uvicorn-") as scratch:
            port = h.free_port()
            argv = [sys.executable, "-c", MINIMAL_APP, str(port)]
            process = h.Process("uvicorn", argv, env=h.process_env(), workdir=Path(scratch))
            run: dict[str, Any] = {"series": "minimal uvicorn app", "n": number}
            run.update(one_start(process, port, ("/",)))
            run["seconds"] = {path: run["seconds"]["/"] for path in PATHS}
            runs.append(run)
            print(
                f"  {run['series']:<32} #{number}: first 200 {run['seconds']['/health/']:.2f} s"
                f" rss {run['rss_mib']:.1f} MiB",
                file=sys.stderr,
                flush=True,
            )
    return runs


def summarize(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    series: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        series.setdefault(run["series"], []).append(run)
    summary = {}
    for name, items in series.items():
        health = [run["seconds"]["/health/"] for run in items]
        ready = [run["seconds"]["/ready"] for run in items]
        rss = [run["rss_mib"] for run in items]
        pss = [run["pss_mib"] for run in items]
        summary[name] = {
            "runs": len(items),
            "health_s": {"median": statistics.median(health), "max": max(health)},
            "ready_s": {"median": statistics.median(ready), "max": max(ready)},
            "rss_mib": {"median": statistics.median(rss), "max": max(rss)},
            "pss_mib": {"median": statistics.median(pss), "max": max(pss)},
            "processes": max(run["processes"] for run in items),
        }
    return summary


def report(
    summary: dict[str, dict[str, Any]], args: argparse.Namespace
) -> tuple[str, dict[str, Any]]:
    rows = []
    for name, s in summary.items():
        rows.append(
            [
                name,
                s["runs"],
                f"{s['health_s']['median']:.2f} / {s['health_s']['max']:.2f}",
                f"{s['ready_s']['median']:.2f} / {s['ready_s']['max']:.2f}",
                f"{s['rss_mib']['median']:.1f} / {s['rss_mib']['max']:.1f}",
                f"{s['pss_mib']['median']:.1f}",
                s["processes"],
            ]
        )
    main = summary["bandstand up"]
    base = summary["minimal uvicorn app"]
    rss_mb_max = main["rss_mib"]["max"] * 1.048576  # MiB -> MB
    slowest = max(main["health_s"]["max"], main["ready_s"]["max"])
    findings = {
        "start_ratio_to_minimal_uvicorn": main["ready_s"]["median"] / base["ready_s"]["median"],
        "rss_ratio_to_minimal_uvicorn": main["rss_mib"]["median"] / base["rss_mib"]["median"],
        "rss_mb_max": rss_mb_max,
        "start_s_max": slowest,
        "rss_target_met": rss_mb_max <= TARGET_MB,
        "start_target_met": slowest <= TARGET_SECONDS,
    }
    text = "\n".join(
        [
            f"### Startup and idle memory ({args.repeat} starts per series; median / max)",
            "",
            h.markdown_table(
                [
                    "series",
                    "starts",
                    "spawn to /health/ 200 s",
                    "spawn to /ready 200 s",
                    "RSS MiB (idle 2 s)",
                    "PSS MiB",
                    "processes",
                ],
                rows,
            ),
            "",
            h.markdown_table(
                ["target", "measured (worst start)", "vs minimal uvicorn app (medians)", "result"],
                [
                    [
                        "healthy and ready <= 3 s after spawn",
                        f"{slowest:.2f} s",
                        f"{findings['start_ratio_to_minimal_uvicorn']:.1f}x",
                        h.verdict(findings["start_target_met"]),
                    ],
                    [
                        "idle RSS of all processes <= 250 MB",
                        f"{rss_mb_max:.0f} MB",
                        f"{findings['rss_ratio_to_minimal_uvicorn']:.1f}x",
                        h.verdict(findings["rss_target_met"]),
                    ],
                ],
            ),
        ]
    )
    return text, findings


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    prime_bytecode()
    runs = baseline_series(args)
    runs += bandstand_series("bandstand up", args, bytecode_cache=True, restart=True)
    runs += bandstand_series(
        "bandstand up, no bytecode cache", args, bytecode_cache=False, restart=False
    )
    runs += bandstand_series(
        "bandstand serve music (a replica)",
        args,
        bytecode_cache=True,
        restart=False,
        command=("serve", "music"),
    )
    summary = summarize(runs)
    text, findings = report(summary, args)
    print(text)
    path = h.write_results(
        "startup_memory",
        {
            "parameters": vars(args),
            "summary": summary,
            "findings": findings,
            "runs": runs,
            "markdown": text,
        },
    )
    print(f"\nresults: {path.relative_to(h.REPO)}", file=sys.stderr)


if __name__ == "__main__":
    main()
