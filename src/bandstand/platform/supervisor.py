"""Keeps the worker processes of `bandstand up` running.

A child that fails (a non-zero status, or killed by a signal) is started again after a back-off
that doubles with each failure in a row (capped); one that ran `stable_seconds` before failing
starts the count afresh. Each exit and restart is logged. A worker that keeps failing
(`crash_loop_restarts` restarts within `crash_loop_window` seconds), or that is down, is reported
by `readiness_check`, so the readiness of the service it belongs to answers 503 naming it.

A child that exits with status 0 stopped on purpose (SIGTERM or Ctrl-C reached it): it is not
started again, and shows as down.

The supervision runs in a thread of its own: `bandstand up` serves HTTP on its main thread.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

import structlog

logger = structlog.get_logger("bandstand.supervisor")

Spawn = Callable[[Sequence[str]], subprocess.Popen[bytes]]


class WorkerDown(Exception):
    """A supervised worker is not running, or keeps failing."""


def _spawn(command: Sequence[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command)  # noqa: S603 - our own interpreter and command


@dataclass
class _Child:
    name: str
    command: Sequence[str]
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    failures_in_a_row: int = 0
    restart_at: float | None = None
    last_status: int | None = None
    restarts: deque[float] = field(default_factory=deque)


@dataclass(frozen=True)
class BackoffPolicy:
    initial: float = 0.5
    maximum: float = 30.0
    stable_seconds: float = 30.0

    def delay(self, failures_in_a_row: int) -> float:
        return min(self.initial * 2.0 ** max(failures_in_a_row - 1, 0), self.maximum)


class Supervisor:
    def __init__(
        self,
        commands: Mapping[str, Sequence[str]],
        *,
        backoff: BackoffPolicy | None = None,
        crash_loop_restarts: int = 3,
        crash_loop_window: float = 120.0,
        poll_seconds: float = 0.2,
        stop_timeout: float = 40.0,
        spawn: Spawn = _spawn,
    ) -> None:
        self.backoff = backoff or BackoffPolicy()
        self.crash_loop_restarts = crash_loop_restarts
        self.crash_loop_window = crash_loop_window
        self.poll_seconds = poll_seconds
        self.stop_timeout = stop_timeout
        self._spawn = spawn
        self._children = {name: _Child(name, list(command)) for name, command in commands.items()}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def names(self) -> list[str]:
        return list(self._children)

    def start(self) -> None:
        with self._lock:
            for child in self._children.values():
                self._start(child)
        self._thread = threading.Thread(target=self._watch, name="supervisor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching, then SIGTERM every child and wait for it (SIGKILL after the timeout)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        running = [c.process for c in self._children.values() if c.process is not None]
        for process in running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in running:
            try:
                process.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def problem(self, name: str, now: float | None = None) -> str | None:
        """Why worker `name` cannot be counted on, or None while it runs steadily."""
        now = time.monotonic() if now is None else now
        with self._lock:
            child = self._children[name]
            recent = sum(1 for at in child.restarts if now - at <= self.crash_loop_window)
            if child.process is None or child.process.poll() is not None:
                status = child.last_status if child.process is None else child.process.returncode
                if child.restart_at is not None:
                    wait = max(child.restart_at - now, 0.0)
                    return f"worker {name} is down (status {status}), restarting in {wait:.1f} s"
                return f"worker {name} is not running (status {status})"
            if recent >= self.crash_loop_restarts:
                return (
                    f"worker {name} keeps failing: restarted {recent} times"
                    f" in the last {self.crash_loop_window:g} s"
                )
        return None

    def readiness_check(self, name: str) -> Callable[[], Awaitable[None]]:
        """A readiness check that raises `WorkerDown` while `problem(name)` has something."""
        if name not in self._children:
            raise KeyError(name)

        async def check() -> None:
            problem = self.problem(name)
            if problem is not None:
                raise WorkerDown(problem)

        return check

    def restarts(self, name: str) -> int:
        """How often worker `name` was started again within the crash-loop window."""
        with self._lock:
            return len(self._children[name].restarts)

    def pid(self, name: str) -> int | None:
        with self._lock:
            process = self._children[name].process
            return None if process is None or process.poll() is not None else process.pid

    # Internals.

    def _watch(self) -> None:
        while not self._stopping.wait(self.poll_seconds):
            now = time.monotonic()
            with self._lock:
                for child in self._children.values():
                    self._tend(child, now)

    def _tend(self, child: _Child, now: float) -> None:
        if child.process is not None:
            status = child.process.poll()
            if status is None:
                return
            child.process = None
            child.last_status = status
            if status == 0:
                logger.warning("worker stopped", worker=child.name, status=status)
                return
            if now - child.started_at >= self.backoff.stable_seconds:
                child.failures_in_a_row = 0
            child.failures_in_a_row += 1
            delay = self.backoff.delay(child.failures_in_a_row)
            child.restart_at = now + delay
            logger.error(
                "worker died",
                worker=child.name,
                status=status,
                failures_in_a_row=child.failures_in_a_row,
                restart_in_seconds=delay,
            )
            return
        if child.restart_at is not None and now >= child.restart_at:
            child.restarts.append(now)
            while child.restarts and now - child.restarts[0] > self.crash_loop_window:
                child.restarts.popleft()
            self._start(child)
            logger.warning(
                "worker restarted",
                worker=child.name,
                pid=child.process.pid if child.process else None,
                restarts_in_window=len(child.restarts),
                window_seconds=self.crash_loop_window,
            )

    def _start(self, child: _Child) -> None:
        child.restart_at = None
        child.started_at = time.monotonic()
        try:
            child.process = self._spawn(child.command)
        except OSError as exc:
            child.process = None
            child.failures_in_a_row += 1
            delay = self.backoff.delay(child.failures_in_a_row)
            child.restart_at = child.started_at + delay
            logger.error(
                "worker could not start", worker=child.name, error=str(exc), retry_in=delay
            )
