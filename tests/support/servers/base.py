"""Private PostgreSQL, RabbitMQ and Redis servers for tests.

Every server runs from its own throw-away directory and listens on free loopback ports only, so
tests never touch a system-wide instance and never depend on one being configured.

Servers are ordinary child processes. They are stopped, and their directories removed, by
``cleanup()``, by an exit handler registered when they first start, and (on Linux, when started
from the main thread and ``setpriv`` is available) by the kernel itself if the test process dies
without running its exit handlers.

When the interpreter runs as root the engines run under their packaged service accounts
(``postgres`` and ``rabbitmq``): PostgreSQL refuses to run as root, and RabbitMQ's packaging
expects its own account.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

LOOPBACK = "127.0.0.1"
_LOG_TAIL_LINES = 40
_POLL_INTERVAL = 0.1


class EngineUnavailable(RuntimeError):
    """A server engine is not installed, or it could not be started."""


class ServerCommandError(RuntimeError):
    """An administrative command against a running test server failed."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now and that no outgoing connection can take before
    a server binds it (`free_ports`)."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` distinct TCP ports on 127.0.0.1, free now, never given before in this run, and
    outside the kernel's range of ephemeral ports: a port the kernel chose (bound to port 0) can
    be chosen again by the next such call, or taken as the local port of an outgoing connection
    before the server meant to listen there starts (its bind then fails)."""
    chosen: list[int] = []
    low, high = _ephemeral_ports()
    candidates = [port for port in range(*_PORTS) if not low <= port <= high]
    random.Random(os.getpid() ^ time.monotonic_ns()).shuffle(candidates)
    for port in candidates:
        if port in _GIVEN_PORTS:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((LOOPBACK, port))
            except OSError:
                continue
        _GIVEN_PORTS.add(port)
        chosen.append(port)
        if len(chosen) == count:
            return chosen
    raise RuntimeError(f"no {count} free ports outside the ephemeral range {low}-{high}")


_PORTS = (10000, 65536)
_GIVEN_PORTS: set[int] = set()


def _ephemeral_ports() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def port_open(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=0.5):
            return True
    except OSError:
        return False


# --------------------------------------------------------------------------- process handling


def service_account(name: str) -> pwd.struct_passwd | None:
    """The account to run an engine as: ``None`` means "as the current user"."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(name)
    except KeyError:
        raise EngineUnavailable(
            f"running as root, but there is no {name!r} account to run the server as"
        ) from None


def _traversable_by_others(path: Path) -> bool:
    return all(part.stat().st_mode & 0o001 for part in (path, *path.parents))


def _make_workdir(prefix: str, account: pwd.struct_passwd | None) -> Path:
    base = Path(tempfile.gettempdir())
    if account is not None and not _traversable_by_others(base):
        base = Path("/tmp")
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    give_to(path, account)
    return path


def give_to(path: Path, account: pwd.struct_passwd | None) -> None:
    if account is None:
        return
    os.chown(path, account.pw_uid, account.pw_gid)
    if path.is_dir():
        for child in path.rglob("*"):
            os.chown(child, account.pw_uid, account.pw_gid, follow_symlinks=False)


def child_environment(drop_prefixes: tuple[str, ...], extra: dict[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(drop_prefixes)}
    env.update(extra)
    return env


def _death_signal_prefix(sig: signal.Signals) -> list[str]:
    """Ask the kernel to signal the child if this process dies (only safe from the main thread,
    because the signal fires when the thread that started the child exits)."""
    if not sys.platform.startswith("linux"):
        return []
    if threading.current_thread() is not threading.main_thread():
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return []
    return [setpriv, f"--pdeathsig={sig.name.removeprefix('SIG')}", "--"]


def spawn(
    argv: Sequence[str],
    *,
    account: pwd.struct_passwd | None,
    env: dict[str, str],
    cwd: Path,
    log_path: Path,
    death_signal: signal.Signals,
) -> subprocess.Popen[bytes]:
    command = [*_death_signal_prefix(death_signal), *argv]
    with open(log_path, "ab") as log:
        try:
            return subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=env,
                start_new_session=True,
                user=None if account is None else account.pw_uid,
                group=None if account is None else account.pw_gid,
                extra_groups=None if account is None else [],
            )
        except OSError as exc:
            raise EngineUnavailable(f"could not run {argv[0]}: {exc}") from exc


def run_command(
    argv: Sequence[str],
    *,
    account: pwd.struct_passwd | None,
    env: dict[str, str],
    cwd: Path,
    timeout: float,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            list(argv),
            input=input,
            stdin=subprocess.DEVNULL if input is None else None,
            capture_output=True,
            text=True,
            cwd=cwd,
            env=env,
            timeout=timeout,
            check=False,
            user=None if account is None else account.pw_uid,
            group=None if account is None else account.pw_gid,
            extra_groups=None if account is None else [],
        )
    except subprocess.TimeoutExpired as exc:
        raise ServerCommandError(f"{argv[0]} did not finish within {timeout:.0f} s") from exc
    except OSError as exc:
        raise ServerCommandError(f"could not run {argv[0]}: {exc}") from exc


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def stop_process(process: subprocess.Popen[bytes], sig: signal.Signals, timeout: float) -> None:
    """Ask ``process`` to stop with ``sig``; kill its whole process group if it lingers."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process.pid)
            process.wait()
    # Sweep helpers the engine may have left behind in its process group.
    _kill_group(process.pid)


def log_tail(paths: Sequence[Path], lines: int = _LOG_TAIL_LINES) -> str:
    parts: list[str] = []
    for path in paths:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        tail = text.splitlines()[-lines:]
        if tail:
            parts.append(f"--- {path} ---\n" + "\n".join(tail))
    return "\n".join(parts) if parts else "(no log output)"


def wait_until(
    ready: Callable[[], bool],
    *,
    process: subprocess.Popen[bytes],
    what: str,
    timeout: float,
    logs: Callable[[], Sequence[Path]],
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        code = process.poll()
        if code is not None:
            raise EngineUnavailable(
                f"{what} exited with code {code} while starting\n{log_tail(logs())}"
            )
        if ready():
            return
        if time.monotonic() > deadline:
            raise EngineUnavailable(
                f"{what} did not become ready within {timeout:.0f} s\n{log_tail(logs())}"
            )
        time.sleep(_POLL_INTERVAL)


# --------------------------------------------------------------------------- registry

_live_servers: dict[int, ManagedServer] = {}
_live_lock = threading.Lock()


def _cleanup_live_servers() -> None:
    with _live_lock:
        servers = list(_live_servers.values())
    for server in servers:
        if server.owner_pid == os.getpid():  # never from a forked child
            with contextlib.suppress(Exception):
                server.cleanup()


atexit.register(_cleanup_live_servers)


class ManagedServer:
    """Common lifecycle: ``start``/``stop`` any number of times, then ``cleanup``."""

    _dir_prefix = "bandstand-server-"
    _start_timeout = 60.0

    def __init__(self) -> None:
        self.owner_pid = os.getpid()
        self._workdir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The process id of the server's main process while it runs (to measure its CPU)."""
        return self._process.pid if self.running and self._process is not None else None

    @property
    def workdir(self) -> Path:
        """The server's private directory (created on first start)."""
        if self._workdir is None:
            raise RuntimeError(f"{type(self).__name__} has not been started")
        return self._workdir

    def start(self) -> None:
        """Start the server and wait until it answers; a no-op when it is already running."""
        if self.running:
            return
        with _live_lock:
            _live_servers[id(self)] = self
        self._stop()  # reap a server that died on its own, and anything it left behind
        try:
            self._start()
        except BaseException:
            self._stop()
            raise

    def stop(self) -> None:
        """Stop the server, keeping its data and ports for a later ``start``."""
        self._stop()

    def cleanup(self) -> None:
        """Stop the server and delete its directory."""
        try:
            self._stop()
        finally:
            if self._workdir is not None:
                shutil.rmtree(self._workdir, ignore_errors=True)
                self._workdir = None
            with _live_lock:
                _live_servers.pop(id(self), None)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.cleanup()

    def _ensure_workdir(self, account: pwd.struct_passwd | None) -> Path:
        if self._workdir is None:
            self._workdir = _make_workdir(self._dir_prefix, account)
        return self._workdir

    def _require_running(self) -> None:
        if not self.running:
            raise ServerCommandError(f"{type(self).__name__} is not running")

    def _start(self) -> None:
        raise NotImplementedError

    def _stop(self) -> None:
        raise NotImplementedError


# --------------------------------------------------------------------------- PostgreSQL
