"""Real `bandstand` processes for end-to-end tests: started, waited for, and always stopped."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

START_TIMEOUT = 60.0  # ten processes starting at once on two cores


def bandstand_env(**settings: str) -> dict[str, str]:
    """This environment without any BANDSTAND_* setting of its own, plus `settings`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("BANDSTAND_")}
    # A stopped service drains for a moment, as in production, but not for the default 5 s.
    env.update(
        {"BANDSTAND_LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1", "BANDSTAND_DRAIN_SECONDS": "0.5"}
    )
    env.update(settings)
    return env


class Bandstand:
    """`python -m bandstand.cli ARGS` in its own process group, its output in a log file."""

    def __init__(self, *args: str, env: dict[str, str], workdir: Path, name: str) -> None:
        self.args = args
        self.env = env
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bandstand.cli", *self.args],
                cwd=self.workdir,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_until_serving(
        self, url: str, *, status: int = 200, timeout: float = START_TIMEOUT
    ) -> httpx.Response:
        """Poll `url` until it answers `status`; fail with the log if the process ends first."""
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(
                    f"{self.args} exited with {self.process.returncode}:\n{self.log()[-4000:]}"
                )
            try:
                response = httpx.get(url, timeout=2)
                if response.status_code == status:
                    return response
                last = response
            except httpx.HTTPError as exc:
                last = exc
            time.sleep(0.1)
        body = last.text if isinstance(last, httpx.Response) else ""
        raise AssertionError(f"{url} not serving ({last!r} {body}):\n{self.log()[-4000:]}")

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 10) -> int:
        """Send `sig` and wait for the exit status; kill the group if it does not come."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError(
                    f"{self.args} ignored {sig.name} for {timeout}s:\n{self.log()[-4000:]}"
                ) from None
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL the process group this process leads, unless it has ended already."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.kill()
