"""The wrk runs of the marketplace benchmark: a script rotating over a list of paths that writes
its p95, a measured run against a server after its warm-up, and the varied searches through
distributed mode (`bandstand serve gateway` in front of the marketplace's replicas)."""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
from pathlib import Path
from typing import Any

import _harness as h
import _varied_search as varied


def lua_script(directory: Path, name: str, paths: list[str]) -> tuple[Path, Path]:
    """A wrk script rotating over `paths` that writes the p95 (µs) to a file when done."""
    out = directory / f"{name}.p95"
    script = directory / f"{name}.lua"
    listed = ", ".join(json.dumps(path) for path in paths)
    script.write_text(
        f"local paths = {{{listed}}}\n"
        "local n = 0\n"
        "request = function()\n"
        "  n = n % #paths + 1\n"
        '  return wrk.format("GET", paths[n])\n'
        "end\n"
        "done = function(summary, latency, requests)\n"
        f'  local f = io.open("{out}", "w")\n'
        '  f:write(string.format("%d\\n", latency:percentile(95)))\n'
        "  f:close()\n"
        "end\n"
    )
    return script, out


def wrk(
    name: str,
    port: int,
    paths: list[str],
    args: argparse.Namespace,
    tmp: Path,
    server: h.Process,
    *,
    duration: float | None = None,
    behind: tuple[h.Process, ...] = (),
) -> dict[str, Any]:
    script, p95_file = lua_script(tmp, re.sub(r"\W+", "_", name), paths)
    url = f"http://{h.HOST}:{port}{paths[0]}"
    servers = [server, *behind]
    h.run_wrk(url, connections=args.connections, duration=args.warmup, script=script)
    result = h.run_wrk(
        url,
        connections=args.connections,
        duration=duration or args.duration,
        script=script,
        servers=servers,
        request_timeout=30.0,
    )
    p95 = int(p95_file.read_text().strip()) / 1000
    line = (
        f"    {name:26} {result.requests_per_s:9,.1f} req/s  p50 {result.p50:8.2f}  "
        f"p95 {p95:8.2f}  p99 {result.p99:8.2f} ms  "
        f"errors {result.non_2xx_3xx + result.socket_errors}"
    )
    print(line, file=sys.stderr, flush=True)
    return {**h.to_jsonable(result), "p95": p95}


def distributed_run(
    name: str,
    url: str,
    workdir: Path,
    replicas: int,
    paths: list[str],
    args: argparse.Namespace,
    tmp: Path,
) -> dict[str, Any]:
    """The varied searches through `bandstand serve gateway` in front of `replicas` processes
    of `bandstand serve marketplace`."""
    services, gateway, gateway_port = varied.distributed(url, workdir, replicas)
    with contextlib.ExitStack() as stack:
        for service, port in services:
            stack.enter_context(h.started(service, port, "/ready"))
        stack.enter_context(h.started(gateway, gateway_port))
        behind = tuple(service for service, _ in services)
        return wrk(name, gateway_port, paths, args, tmp, gateway, behind=behind)
