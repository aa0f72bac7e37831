"""Shared parts of the benchmarks: free ports, `bandstand` processes, HTTP; with the /proc
readings (`_procfs`), wrk runs (`_wrk`) and results (`_results`), all reached through this module.

Every process a benchmark starts gets its own temporary working and data directory, listens on
127.0.0.1 only and runs with `BANDSTAND_ACCESS_LOG=false BANDSTAND_LOG_LEVEL=WARNING`. Other
`BANDSTAND_*` variables of the calling shell are not passed on, so a developer's `.env`-style
settings cannot change what is measured.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from _procfs import descendants, memory_of_tree, system_busy_seconds
from _results import (
    BENCH,
    REPO,
    RESULTS,
    machine_info,
    markdown_table,
    to_jsonable,
    verdict,
    write_results,
)
from _wrk import (
    Measured,
    WrkResult,
    common_arguments,
    measure_wrk,
    median_result,
    run_wrk,
    settle,
)

__all__ = [
    "BENCH",
    "HOST",
    "REPO",
    "RESULTS",
    "Measured",
    "Process",
    "WrkResult",
    "background_timer",
    "bandstand_command",
    "bandstand_process",
    "common_arguments",
    "descendants",
    "free_port",
    "http_request",
    "http_status",
    "machine_info",
    "markdown_table",
    "measure_wrk",
    "median_result",
    "memory_of_tree",
    "process_env",
    "run_wrk",
    "settle",
    "started",
    "system_busy_seconds",
    "to_jsonable",
    "verdict",
    "write_results",
]

# Compiled bytecode of the processes under test, kept between runs (see `process_env`).
PYCACHE = RESULTS / "pycache"
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
    env["BANDSTAND_DRAIN_SECONDS"] = "0"  # a benchmark stops its processes at once
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


def background_timer(seconds: float) -> threading.Event:
    """An event set after `seconds` (for loops that must end on time)."""
    event = threading.Event()
    timer = threading.Timer(seconds, event.set)
    timer.daemon = True
    timer.start()
    return event
