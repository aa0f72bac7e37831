"""`bandstand up` runs the billing worker as a child process: an order placed through the
gateway is completed, and Ctrl-C stops the worker with everything else."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.processes import Bandstand, bandstand_env
from tests.support.servers import free_port

pytestmark = pytest.mark.e2e
PASSWORD = "Billing-Pass-1"


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            text = (task / "children").read_text().split()
        except FileNotFoundError:  # a thread that ended while we looked
            continue
        found.extend(int(child) for child in text)
    return found


def command_line(pid: int) -> list[str]:
    raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    return [part.decode() for part in raw.split(b"\0") if part]


def test_up_runs_the_billing_worker_and_stops_it(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    up = Bandstand(
        "up",
        "--port",
        str(port),
        "--data-dir",
        str(tmp_path / "data"),
        env=bandstand_env(),
        workdir=tmp_path,
        name="up",
    )
    with up:
        up.wait_until_serving(f"{base}/health/")
        assert up.process is not None
        workers = [
            pid
            for pid in children(up.process.pid)
            if command_line(pid)[-4:-2] == ["worker", "billing"]
        ]
        assert len(workers) == 1, [command_line(pid) for pid in children(up.process.pid)]
        with httpx.Client(base_url=base, timeout=10) as http:
            user = {"username": "greta", "email": "greta@example.com", "password": PASSWORD}
            assert http.post("/api/v1/register", json=user).status_code == 201
            login = http.post("/api/v1/login", json={"username": "greta", "password": PASSWORD})
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            order = {"number_of_items": 3, "total_amount": 99.97}
            accepted = http.post("/api/billing", json=order, headers=headers)
            assert accepted.status_code == 202, accepted.text
            url = f"/api/v1/billing/orders/{accepted.json()['order_id']}"
            deadline = time.monotonic() + 30
            while (body := http.get(url, headers=headers).json())["status"] == "pending":
                assert time.monotonic() < deadline, up.log()[-4000:]
                time.sleep(0.1)
            assert body["status"] == "completed"
            assert body["tax_amount"] == "16.66"

        assert up.stop(signal.SIGINT, timeout=30) == 0, up.log()[-4000:]
    assert not Path(f"/proc/{workers[0]}").exists() or _zombie(workers[0])
    assert "Traceback" not in up.log()


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True
