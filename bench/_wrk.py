"""wrk runs: one measured run with the CPU each side used, repeated runs and their medians, and
the options that decide how long and how quietly to measure."""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from _procfs import cpu_seconds, system_busy_seconds, wait_for_quiet

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
_PERCENTILE = re.compile(r"^\s*(50|75|90|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.MULTILINE)


class Measured(Protocol):
    """What a run measures the CPU of: a named tree of processes (a `Process` under test, or
    a server a fixture started)."""

    @property
    def name(self) -> str: ...

    def tree(self) -> list[int]: ...


@dataclass
class WrkResult:
    url: str
    connections: int
    duration_s: float
    requests: int
    requests_per_s: float
    latency_ms: dict[str, float]
    non_2xx_3xx: int
    socket_errors: int
    cpu_cores: dict[str, float] = field(default_factory=dict)

    @property
    def p50(self) -> float:
        return self.latency_ms["p50"]

    @property
    def p99(self) -> float:
        return self.latency_ms["p99"]

    def cpu_us_per_request(self, key: str = "servers") -> float:
        """CPU time the servers (or `server:NAME`) spent per request, in microseconds."""
        return 1e6 * self.cpu_cores.get(key, 0.0) / self.requests_per_s if self.requests else 0.0

    @property
    def clean(self) -> bool:
        return self.non_2xx_3xx == 0 and self.socket_errors == 0 and self.requests > 0


def parse_wrk(output: str, url: str, connections: int) -> WrkResult:
    latency = {
        f"p{m.group(1)}": float(m.group(2)) * _UNITS[m.group(3)]
        for m in _PERCENTILE.finditer(output)
    }
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h)", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if total is None or rate is None or len(latency) != 4:
        raise RuntimeError(f"cannot read wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        url=url,
        connections=connections,
        duration_s=float(total.group(2)) * _UNITS[total.group(3)] / 1e3,
        requests=int(total.group(1)),
        requests_per_s=float(rate.group(1)),
        latency_ms=latency,
        non_2xx_3xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
    )


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_wrk(
    url: str,
    *,
    connections: int,
    duration: float,
    threads: int = 1,
    script: Path | None = None,
    servers: Sequence[Measured] = (),
    request_timeout: float = 10.0,
) -> WrkResult:
    """One wrk run with `--latency`; CPU use of the servers, wrk and the rest, in cores."""
    argv = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        f"--timeout={request_timeout:g}s",
        "--latency",
    ]
    if script is not None:
        argv += ["-s", str(script)]
    argv.append(url)
    trees = {server.name: server.tree() for server in servers}
    busy0 = system_busy_seconds()
    before = {name: cpu_seconds(pids) for name, pids in trees.items()}
    children0, self0 = _children_cpu(), _self_cpu()
    started_at = time.perf_counter()
    completed = subprocess.run(
        argv, capture_output=True, text=True, timeout=duration + request_timeout + 30, check=False
    )
    wall = time.perf_counter() - started_at
    busy = system_busy_seconds() - busy0
    per_server = {name: cpu_seconds(pids) - before[name] for name, pids in trees.items()}
    server_cpu = sum(per_server.values())
    wrk_cpu = _children_cpu() - children0
    own_cpu = _self_cpu() - self0
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr}")
    result = parse_wrk(completed.stdout, url, connections)
    result.cpu_cores = {
        **{f"server:{name}": seconds / wall for name, seconds in per_server.items()},
        "servers": server_cpu / wall,
        "wrk": wrk_cpu / wall,
        "other": max(0.0, busy - server_cpu - wrk_cpu - own_cpu) / wall,
    }
    return result


def median_result(results: Sequence[WrkResult]) -> dict[str, Any]:
    """Per-metric medians over repeated runs of the same measurement."""
    return {
        "runs": len(results),
        "requests_per_s": statistics.median(r.requests_per_s for r in results),
        "latency_ms": {
            key: statistics.median(r.latency_ms[key] for r in results)
            for key in ("p50", "p75", "p90", "p99")
        },
        "non_2xx_3xx": sum(r.non_2xx_3xx for r in results),
        "socket_errors": sum(r.socket_errors for r in results),
        "cpu_cores": {
            key: statistics.median(r.cpu_cores.get(key, 0.0) for r in results)
            for key in results[0].cpu_cores
        },
        "cpu_us_per_request": {
            key: statistics.median(r.cpu_us_per_request(key) for r in results)
            for key in results[0].cpu_cores
            if key.startswith("server")
        },
        "all_requests_per_s": [r.requests_per_s for r in results],
        "all_other_cores": [round(r.cpu_cores.get("other", 0.0), 3) for r in results],
    }


# --- options --------------------------------------------------------------------------------------


def common_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument(
        "--quick", action="store_true", help="short runs to check that everything works"
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="before each measurement, wait at most this long for the rest of the machine to "
        "use less than 0.1 of a core, and repeat runs it disturbed (0: neither)",
    )
    return parser


def settle(args: argparse.Namespace) -> float:
    """Wait for a quiet machine as the options say; the CPU the rest of it was using, in cores."""
    if args.quiet_wait <= 0:
        return 0.0
    return wait_for_quiet(max_wait=args.quiet_wait)


def measure_wrk(
    url: str,
    args: argparse.Namespace,
    *,
    connections: int,
    servers: Sequence[Measured],
    script: Path | None = None,
    attempts: int = 4,
    noisy_cores: float = 0.12,
) -> WrkResult:
    """Warm-up, then a measured run; run again (up to `attempts`) while other work on the
    machine took more than `noisy_cores`, and keep the least disturbed run.

    The two processors of the machines this runs on are not independent: a process on one
    slows the other by up to a quarter, so a run beside unrelated work is not comparable."""
    best: WrkResult | None = None
    for _ in range(attempts):
        settle(args)
        run_wrk(url, connections=connections, duration=args.warmup, script=script, servers=servers)
        result = run_wrk(
            url, connections=connections, duration=args.duration, script=script, servers=servers
        )
        if best is None or result.cpu_cores["other"] < best.cpu_cores["other"]:
            best = result
        if result.cpu_cores["other"] <= noisy_cores or args.quiet_wait <= 0:
            break
    assert best is not None
    return best
