"""`bandstand up`: everything in one process, as a user starts it."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest

from bandstand import __version__
from tests.e2e.processes import Bandstand, bandstand_env
from tests.support.servers import free_port

pytestmark = pytest.mark.e2e
PASSWORD = "Embedded-Pass-1"


def test_up_serves_everything_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    data_dir = tmp_path / "data"
    base = f"http://127.0.0.1:{port}"
    up = Bandstand(
        "up",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        env=bandstand_env(),
        workdir=tmp_path,
        name="up",
    )
    with up:
        health = up.wait_until_serving(f"{base}/health/")
        assert health.json() == {"status": "healthy", "service": "gateway", "version": __version__}
        ready = up.wait_until_serving(f"{base}/ready")
        # Anyone learns the status; which service is up and why is for admins.
        assert ready.json() == {"status": "ready"}

        with httpx.Client(base_url=base, timeout=10) as http:
            registered = http.post(
                "/api/v1/register",
                json={"username": "frank", "email": "frank@example.com", "password": PASSWORD},
            )
            assert registered.status_code == 201, registered.text
            login = http.post("/api/v1/login", json={"username": "frank", "password": PASSWORD})
            assert login.status_code == 200, login.text
            token = login.json()["access_token"]
            profile = http.get("/api/v1/profile", headers={"Authorization": f"Bearer {token}"})
            assert profile.status_code == 200
            assert profile.json()["user"]["username"] == "frank"
            assert http.get("/nowhere").json() == {"detail": "Not Found"}
            assert http.get("/metrics").status_code == 401

            # The server believes no X-Forwarded-For by default, from loopback neither: a
            # client naming a new address with each try is still limited as itself.
            wrong = {"username": "frank", "password": "wrong-password"}
            statuses = [
                http.post(
                    "/api/v1/login", json=wrong, headers={"X-Forwarded-For": f"198.51.100.{n}"}
                ).status_code
                for n in range(1, 8)
            ]
            assert statuses[:5] == [401] * 5
            assert set(statuses[5:]) == {429}
            assert "/api/v1/login" in http.get("/openapi.json").json()["paths"]

        # One SQLite file per service, and the embedded broker's, under the data dir.
        assert {"identity.sqlite3", "broker.sqlite3"} <= {
            path.name for path in data_dir.glob("*.sqlite3")
        }

        started = time.monotonic()
        assert up.stop(signal.SIGINT) == 0, up.log()[-4000:]
        assert time.monotonic() - started < 5
    assert "Traceback" not in up.log()
