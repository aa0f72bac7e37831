"""A private Redis server for tests."""

from __future__ import annotations

import os
import shutil
import signal
import socket
from pathlib import Path

from tests.support.servers.base import (
    LOOPBACK,
    EngineUnavailable,
    ManagedServer,
    ServerCommandError,
    free_port,
    spawn,
    stop_process,
    wait_until,
)


def _redis_command(port: int, *args: str, timeout: float = 5.0) -> bytes:
    """Send one command over RESP and return its (single-line) reply."""
    encoded = [arg.encode() for arg in args]
    payload = f"*{len(encoded)}\r\n".encode() + b"".join(
        b"$%d\r\n%s\r\n" % (len(arg), arg) for arg in encoded
    )
    reply = b""
    with socket.create_connection((LOOPBACK, port), timeout=timeout) as sock:
        sock.sendall(payload)
        while not reply.endswith(b"\r\n"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    return reply.strip()


def _find_redis_server() -> Path:
    found = shutil.which("redis-server")
    if found is not None:
        return Path(found)
    for candidate in (Path("/usr/bin/redis-server"), Path("/usr/sbin/redis-server")):
        if candidate.is_file():
            return candidate
    raise EngineUnavailable(
        "Redis is not installed: no redis-server on PATH (Debian: apt-get install redis-server)"
    )


class RedisServer(ManagedServer):
    """A private, non-persistent Redis server."""

    _dir_prefix = "bandstand-redis-"
    _start_timeout = 30.0

    def __init__(self, *, port: int | None = None) -> None:
        super().__init__()
        self.port = port if port is not None else free_port()

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    def command(self, *args: str) -> bytes:
        """Send one command and return its raw single-line reply (e.g. ``b"+OK"``)."""
        self._require_running()
        try:
            return _redis_command(self.port, *args)
        except OSError as exc:
            raise ServerCommandError(f"Redis command {args[0]} failed: {exc}") from exc

    def flushall(self) -> None:
        reply = self.command("FLUSHALL")
        if reply != b"+OK":
            raise ServerCommandError(f"FLUSHALL answered {reply!r}")

    def _logs(self) -> list[Path]:
        return [self.workdir / "redis.log"]

    def _ping(self) -> bool:
        try:
            return _redis_command(self.port, "PING", timeout=1.0) == b"+PONG"
        except OSError:
            return False

    def _start(self) -> None:
        redis_server = _find_redis_server()
        workdir = self._ensure_workdir(None)
        self._process = spawn(
            [
                str(redis_server),
                "--port",
                str(self.port),
                "--bind",
                LOOPBACK,
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
                "--daemonize",
                "no",
                "--logfile",
                "",
            ],
            account=None,
            env=dict(os.environ),
            cwd=workdir,
            log_path=workdir / "redis.log",
            death_signal=signal.SIGTERM,
        )
        wait_until(
            self._ping,
            process=self._process,
            what=f"Redis on port {self.port}",
            timeout=self._start_timeout,
            logs=self._logs,
        )

    def _stop(self) -> None:
        if self._process is not None:
            stop_process(self._process, signal.SIGTERM, timeout=15)
            self._process = None
