"""`bandstand up` supervises its billing worker: one killed with SIGKILL while orders come in is
started again and every order is completed; one that keeps dying shows in `/ready` (503) and in
the admin's deep health check."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.billing.test_up import children, command_line
from tests.e2e.processes import Bandstand, bandstand_env
from tests.support.servers import free_port

pytestmark = pytest.mark.e2e
PASSWORD = "Billing-Pass-1"
ORDERS = 600


def billing_worker(up: Bandstand) -> int | None:
    assert up.process is not None
    for pid in children(up.process.pid):
        try:
            if command_line(pid)[-4:-2] == ["worker", "billing"]:
                return pid
        except OSError:  # it ended meanwhile
            continue
    return None


def wait_until(condition: Callable[[], bool], timeout: float, what: str, up: Bandstand) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}:\n{up.log()[-4000:]}"
        time.sleep(0.1)


def new_worker(up: Bandstand, old: int | None) -> int:
    found: list[int] = []

    def started() -> bool:
        pid = billing_worker(up)
        if pid is not None and pid != old:
            found.append(pid)
            return True
        return False

    wait_until(started, 60, f"a billing worker other than {old}", up)
    return found[-1]


@contextmanager
def running_up(tmp_path: Path) -> Iterator[tuple[Bandstand, str]]:
    port = free_port()
    data_dir = tmp_path / "data"
    # A message of a killed worker comes back after 3 s instead of the default 60. Counts are
    # kept for 10 minutes: the worker's completed orders must reach the app's kept counts through
    # the data directory's generation board (each process has its own memory cache), since a
    # count that waited for its expiry would outlast the test's waits.
    env = bandstand_env(
        BANDSTAND_BROKER_URL=f"embedded://{data_dir / 'broker.sqlite3'}?visibility_timeout=3",
        BANDSTAND_LIST_COUNT_CACHE_SECONDS="600",
    )
    admin = subprocess.run(
        [
            sys.executable,
            "-m",
            "bandstand.cli",
            "createsuperuser",
            "--username",
            "root",
            "--email",
            "root@example.com",
            "--password",
            PASSWORD,
            "--data-dir",
            str(data_dir),
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        check=False,
    )
    assert admin.returncode == 0, admin.stderr.decode()
    up = Bandstand(
        "up", "--port", str(port), "--data-dir", str(data_dir), env=env, workdir=tmp_path, name="up"
    )
    with up:
        base = f"http://127.0.0.1:{port}"
        up.wait_until_serving(f"{base}/health/")
        yield up, base
        assert up.stop(signal.SIGINT, timeout=60) == 0, up.log()[-4000:]


def login(http: httpx.Client, username: str) -> dict[str, str]:
    answer = http.post("/api/v1/login", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_a_killed_worker_is_restarted_and_every_order_completed(tmp_path: Path) -> None:
    with running_up(tmp_path) as (up, base), httpx.Client(base_url=base, timeout=30) as http:
        first = new_worker(up, None)
        user = {"username": "greta", "email": "greta@example.com", "password": PASSWORD}
        assert http.post("/api/v1/register", json=user).status_code == 201
        headers = login(http, "greta")
        accepted: list[str] = []
        lock = threading.Lock()

        def order(_: int) -> None:
            body = {"number_of_items": 1, "total_amount": 10.0}
            answer = http.post("/api/billing", json=body, headers=headers)
            assert answer.status_code == 202, answer.text
            with lock:
                accepted.append(answer.json()["order_id"])

        with ThreadPoolExecutor(8) as pool:
            placing = list(pool.map(order, range(ORDERS // 4)))
            os.kill(first, signal.SIGKILL)
            placing += list(pool.map(order, range(ORDERS - len(placing))))
        assert len(set(accepted)) == ORDERS

        second = new_worker(up, first)
        assert second != first

        def all_completed() -> bool:
            listing = http.get(
                "/api/v1/billing/orders", params={"status": "completed"}, headers=headers
            )
            return bool(listing.json()["count"] == ORDERS)

        wait_until(all_completed, 180, f"{ORDERS} orders completed", up)
        pending = http.get("/api/v1/billing/orders", params={"status": "pending"}, headers=headers)
        assert pending.json()["count"] == 0
        assert "worker restarted" in up.log()


def test_a_worker_that_keeps_dying_shows_in_ready_and_the_deep_health_check(
    tmp_path: Path,
) -> None:
    with running_up(tmp_path) as (up, base), httpx.Client(base_url=base, timeout=30) as http:
        pid = new_worker(up, None)
        wait_until(lambda: http.get("/ready").status_code == 200, 60, "ready", up)
        for _ in range(3):
            os.kill(pid, signal.SIGKILL)
            pid = new_worker(up, pid)

        admin = login(http, "root")
        assert http.get("/ready").json() == {"status": "not ready"}  # no detail for anonymous
        ready = http.get("/ready", headers=admin)
        assert ready.status_code == 503, ready.text
        billing = ready.json()["services"]["billing"]
        assert billing["status"] == "down"
        worker = billing["checks"]["worker:billing"]
        assert worker["status"] == "down"
        assert "keeps failing" in worker["error"]
        # The other checks of billing are fine: it is the worker that is named.
        assert billing["checks"]["database"]["status"] == "up"

        health = http.get("/api/v1/health-check", headers=admin)
        assert health.status_code == 200, health.text
        report = health.json()
        assert report["status"] == "degraded"
        assert report["checks"]["services"]["billing"]["status"] == "down"
        assert report["checks"]["services"]["billing"]["checks"]["worker:billing"]["status"] == (
            "down"
        )
        assert up.log().count("worker restarted") == 3
