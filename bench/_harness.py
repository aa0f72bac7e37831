"""Shared parts of the benchmarks: free ports, `bandstand` processes, wrk, /proc readings.

Every process a benchmark starts gets its own temporary working and data directory, listens on
127.0.0.1 only and runs with `BANDSTAND_ACCESS_LOG=false BANDSTAND_LOG_LEVEL=WARNING`. Other
`BANDSTAND_*` variables of the calling shell are not passed on, so a developer's `.env`-style
settings cannot change what is measured.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib.metadata
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "results"
# Compiled bytecode of the processes under test, kept between runs (see `process_env`).
PYCACHE = RESULTS / "pycache"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PACKAGES = ("uvicorn", "fastapi", "starlette", "aiohttp", "uvloop", "httptools", "argon2-cffi")
HOST = "127.0.0.1"


# --- ports, environment, HTTP ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def bandstand_command() -> list[str]:
    """The `bandstand` console script of the environment running this benchmark."""
    for candidate in (
        Path(sys.executable).with_name("bandstand"),
        REPO / ".venv" / "bin" / "bandstand",
    ):
        if candidate.exists():
            return [str(candidate)]
    found = shutil.which("bandstand")
    if found is None:
        raise SystemExit("no `bandstand` command: run `uv sync` first")
    return [found]


def process_env(
    extra: dict[str, str] | None = None, *, no_bytecode_dir: Path | None = None
) -> dict[str, str]:
    """Environment for a process under test.

    By default the process reads and writes compiled bytecode under `bench/results/pycache`
    (PYTHONPYCACHEPREFIX), as an installed image does (the Dockerfile compiles it), whatever
    PYTHONDONTWRITEBYTECODE the calling shell has. With `no_bytecode_dir` (an empty directory)
    nothing is read or written: every module is compiled from source at each start.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("BANDSTAND_")}
    env["BANDSTAND_ACCESS_LOG"] = "false"
    env["BANDSTAND_LOG_LEVEL"] = "WARNING"
    env["PYTHONUNBUFFERED"] = "1"
    if no_bytecode_dir is None:
        PYCACHE.mkdir(parents=True, exist_ok=True)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["PYTHONPYCACHEPREFIX"] = str(no_bytecode_dir)
    env.update(extra or {})
    return env


def http_request(
    port: int,
    method: str,
    path: str,
    body: object = None,
    *,
    timeout: float = 5.0,
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        headers = {}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def http_status(port: int, path: str, timeout: float = 1.0) -> int | None:
    """Status of a GET, or None when nothing answers (yet)."""
    try:
        return http_request(port, "GET", path, timeout=timeout)[0]
    except (OSError, http.client.HTTPException):
        return None


# --- /proc --------------------------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 3 (state) onwards; the command name in parentheses may hold spaces.
    return text[text.rfind(")") + 2 :].split()


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat_fields(int(entry))
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(int(entry))
    tree = [pid]
    for parent in tree:
        tree.extend(children.get(parent, ()))
    return tree


def _status_kib(pid: int, key: str, filename: str = "status") -> int:
    try:
        for line in Path(f"/proc/{pid}/{filename}").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def memory_of_tree(pid: int) -> dict[str, Any]:
    """Summed RSS (and PSS, which counts a page shared by N processes as 1/N) of a tree, MiB."""
    pids = descendants(pid)
    rss = sum(_status_kib(p, "VmRSS") for p in pids)
    pss = sum(_status_kib(p, "Pss", "smaps_rollup") for p in pids)
    return {"processes": len(pids), "rss_mib": rss / 1024, "pss_mib": pss / 1024}


def cpu_seconds(pids: Sequence[int]) -> float:
    """user+system CPU time so far of the given processes."""
    total = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def system_busy_seconds() -> float:
    """CPU time spent by all processors outside idle and iowait since boot."""
    with open("/proc/stat") as stat:
        values = [int(value) for value in stat.readline().split()[1:9]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLOCK_TICKS


def wait_for_quiet(threshold_cores: float = 0.1, max_wait: float = 60.0) -> float:
    """Wait (at most `max_wait`) until the rest of the machine uses little CPU; return its load."""
    deadline = time.monotonic() + max_wait
    while True:
        before = system_busy_seconds()
        time.sleep(1.0)
        busy = system_busy_seconds() - before
        if busy < threshold_cores or time.monotonic() > deadline:
            return busy


# --- processes ----------------------------------------------------------------------------------


class Process:
    """A process under test, in its own session; stopped with SIGTERM, then SIGKILL."""

    def __init__(
        self, name: str, argv: Sequence[str], *, env: dict[str, str], workdir: Path
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = env
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self.popen: subprocess.Popen[bytes] | None = None
        self.spawned_at = 0.0

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def start(self) -> Process:
        self.workdir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self.spawned_at = time.perf_counter()
            self.popen = subprocess.Popen(
                self.argv,
                cwd=self.workdir,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_ready(self, port: int, path: str = "/health/", timeout: float = 90.0) -> float:
        """Seconds from spawn to the first 200 of GET `path`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if http_status(port, path, timeout=1.0) == 200:
                return time.perf_counter() - self.spawned_at
            if not self.alive():
                raise RuntimeError(f"{self.name} exited before it was ready:\n{self.log_tail()}")
            time.sleep(0.02)
        raise RuntimeError(f"{self.name} not ready within {timeout:.0f} s:\n{self.log_tail()}")

    def tree(self) -> list[int]:
        return descendants(self.pid) if self.alive() else []

    def stop(self, timeout: float = 15.0) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(5)
        # Anything the process left behind in its own session (workers it failed to stop).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)

    def __enter__(self) -> Process:
        return self if self.popen is not None else self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def bandstand_process(
    name: str,
    args: Sequence[str],
    workdir: Path,
    *,
    extra_env: dict[str, str] | None = None,
    bytecode_cache: bool = True,
) -> Process:
    """`bandstand ARGS` with its data in `workdir/var` (not started)."""
    argv = [*bandstand_command(), *args, "--data-dir", str(workdir / "var")]
    no_bytecode_dir = None if bytecode_cache else workdir / "no-pycache"
    env = process_env(extra_env, no_bytecode_dir=no_bytecode_dir)
    return Process(name, argv, env=env, workdir=workdir)


@contextlib.contextmanager
def started(process: Process, port: int, ready_path: str = "/health/") -> Iterator[Process]:
    with process:
        process.wait_ready(port, ready_path)
        yield process


# --- wrk ------------------------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
_PERCENTILE = re.compile(r"^\s*(50|75|90|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.MULTILINE)


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
    servers: Sequence[Process] = (),
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


# --- reporting ------------------------------------------------------------------------------------


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
    servers: Sequence[Process],
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


def _command_output(argv: Sequence[str]) -> str:
    try:
        completed = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (completed.stdout + completed.stderr).strip()


def machine_info() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "nproc": _command_output(["nproc"]),
        "cpu_model": model,
        "memory": _command_output(["free", "-h"]),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "packages": versions,
        "wrk": _command_output(["wrk", "-v"]).splitlines()[0] if shutil.which("wrk") else None,
        "nginx": _command_output(["nginx", "-v"]) if shutil.which("nginx") else None,
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
        "revision": _command_output(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"]),
        "uncommitted_source_changes": bool(
            _command_output(["git", "-C", str(REPO), "status", "--porcelain", "--", "src"])
        ),
    }


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
        return str(value)

    text_rows = [[cell(value) for value in row] for row in rows]
    widths = [
        max(len(str(header)), *(len(row[i]) for row in text_rows))
        for i, header in enumerate(headers)
    ]
    lines = [
        "| " + " | ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    lines += [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in text_rows
    ]
    return "\n".join(lines)


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def to_jsonable(value: Any) -> Any:
    if isinstance(value, WrkResult):
        return asdict(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {key: to_jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(item) for item in value]
    return value


def write_results(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    document = {
        "benchmark": name,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        **data,
    }
    path.write_text(json.dumps(to_jsonable(document), indent=2) + "\n")
    return path


def background_timer(seconds: float) -> threading.Event:
    """An event set after `seconds` (for loops that must end on time)."""
    event = threading.Event()
    timer = threading.Timer(seconds, event.set)
    timer.daemon = True
    timer.start()
    return event
