"""The supervisor of `bandstand up`'s workers, with real child processes."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import pytest

from bandstand.platform.supervisor import BackoffPolicy, Supervisor, WorkerDown


def wait_until(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.02)


def exiting_with(status: int) -> list[str]:
    return [sys.executable, "-c", f"raise SystemExit({status})"]


def test_backoff_doubles_with_each_failure_in_a_row_up_to_its_cap() -> None:
    policy = BackoffPolicy(initial=0.5, maximum=4.0)
    assert [policy.delay(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


async def test_a_child_that_keeps_failing_is_restarted_and_reported() -> None:
    supervisor = Supervisor(
        {"broken": exiting_with(3)},
        backoff=BackoffPolicy(initial=0.01, maximum=0.05),
        crash_loop_restarts=3,
        crash_loop_window=600,
        poll_seconds=0.01,
    )
    supervisor.start()
    try:
        wait_until(lambda: supervisor.restarts("broken") >= 4)
        problem = supervisor.problem("broken")
        assert problem is not None
        with pytest.raises(WorkerDown):
            await supervisor.readiness_check("broken")()
    finally:
        supervisor.stop()


async def test_a_steady_child_is_ready_and_one_that_exits_cleanly_is_not_restarted() -> None:
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    supervisor = Supervisor(
        {"steady": sleeper, "done": exiting_with(0)}, poll_seconds=0.01, stop_timeout=5
    )
    supervisor.start()
    try:
        wait_until(lambda: supervisor.problem("done") is not None)
        await supervisor.readiness_check("steady")()
        assert supervisor.problem("steady") is None
        assert supervisor.problem("done") == "worker done is not running (status 0)"
        assert supervisor.restarts("done") == 0
    finally:
        supervisor.stop()
    assert supervisor.pid("steady") is None
