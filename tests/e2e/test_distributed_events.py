"""Services as separate processes on PostgreSQL, RabbitMQ and Redis, talking by events.

An admin deletes a user through the gateway; identity publishes `identity.user.deleted` through
its outbox to RabbitMQ, and music and concerts, each in its own process, erase that user's likes
and attendance.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bandstand import registry
from tests.e2e.processes import Bandstand, bandstand_env
from tests.support.servers import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.redis]
# Every service runs: the gateway is ready only when all of them are.
SERVICES = tuple(registry.names())
ADMIN_PASSWORD = "Admin-Events-Pass-1"
USER_PASSWORD = "Member-Events-Pass-1"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _login(http: httpx.Client, username: str, password: str) -> dict[str, str]:
    response = http.post("/api/v1/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return _bearer(response.json()["access_token"])


def _eventually(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.2)


def test_deleting_a_user_erases_their_likes_and_attendance(
    postgres_url_factory: Callable[[str], str],
    rabbitmq_url: str,
    redis_url: str,
    tmp_path: Path,
) -> None:
    ports = {name: free_port() for name in (*SERVICES, "gateway")}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    shared = {
        "BANDSTAND_BROKER_URL": rabbitmq_url,
        "BANDSTAND_CACHE_URL": redis_url,
        "BANDSTAND_JWKS_URL": f"{urls['identity']}/.well-known/jwks.json",
        **{f"BANDSTAND_DATABASES__{name.upper()}": postgres_url_factory(name) for name in SERVICES},
        **{f"BANDSTAND_SERVICE_URLS__{name.upper()}": urls[name] for name in SERVICES},
    }
    env = bandstand_env(**shared)
    created = subprocess.run(
        [
            *(sys.executable, "-m", "bandstand.cli", "createsuperuser"),
            *("--username", "root", "--email", "root@example.com"),
            *("--password", ADMIN_PASSWORD, "--data-dir", str(tmp_path / "identity")),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    processes = [
        Bandstand(
            "serve",
            name,
            "--port",
            str(ports[name]),
            "--data-dir",
            str(tmp_path / name),
            env=env,
            workdir=tmp_path / name,
            name=name,
        )
        for name in (*SERVICES, "gateway")
    ]
    with contextlib.ExitStack() as stack:
        for process in processes:
            stack.enter_context(process)
        gateway = processes[-1]
        # Four processes start at once on a small machine: allow them time.
        gateway.wait_until_serving(f"{urls['gateway']}/ready", timeout=90)
        http = stack.enter_context(httpx.Client(base_url=urls["gateway"], timeout=10))
        _erase_a_user(http)
        for process in reversed(processes):
            assert process.stop(signal.SIGTERM) == 0, process.log()[-4000:]
    for process in processes:
        assert "Traceback" not in process.log(), process.log()[-4000:]


def _erase_a_user(http: httpx.Client) -> None:
    admin = _login(http, "root", ADMIN_PASSWORD)
    song = http.post(
        "/api/v1/songs",
        json={
            "title": "Lanterns on the Water",
            "artist": "The Harbour Lights",
            "genre": "folk",
            "file_url": "https://media.bandstand.example/lanterns.mp3",
            "duration": 214,
        },
        headers=admin,
    )
    assert song.status_code == 201, song.text
    concert = http.post(
        "/api/v1/concerts",
        json={
            "concert_name": "Harbour Lights Live",
            "duration": 120,
            "city": "Valencia",
            "date": "2027-06-12T20:00:00Z",
        },
        headers=admin,
    )
    assert concert.status_code == 201, concert.text
    song_id, concert_id = song.json()["id"], concert.json()["id"]

    registered = http.post(
        "/api/v1/register",
        json={"username": "olga", "email": "olga@example.com", "password": USER_PASSWORD},
    )
    assert registered.status_code == 201, registered.text
    user_id = registered.json()["user"]["id"]
    user = _login(http, "olga", USER_PASSWORD)
    assert http.put(f"/api/v1/songs/{song_id}/like", headers=user).status_code == 200
    attending = http.put(
        f"/api/v1/concerts/{concert_id}/attendance", json={"status": "Attending"}, headers=user
    )
    assert attending.status_code == 200, attending.text

    def song_state() -> dict[str, Any]:
        response = http.get(f"/api/v1/songs/{song_id}", headers=admin)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def attendees() -> int:
        response = http.get(f"/api/v1/concerts/{concert_id}/attendees", headers=admin)
        assert response.status_code == 200, response.text
        return int(response.json()["count"])

    assert song_state()["like_count"] == 1
    assert attendees() == 1

    deleted = http.delete(f"/api/v1/users/{user_id}", headers=admin)
    assert deleted.status_code in (200, 204), deleted.text
    _eventually(lambda: song_state()["like_count"] == 0 and attendees() == 0)
    assert http.get("/api/v1/me/likes", headers=user).status_code == 401
    if "admin" in SERVICES:
        _audited(http, admin, user_id)


def _audited(http: httpx.Client, admin: dict[str, str], user_id: int) -> None:
    """Admin's audit queue, bound to every routing key on RabbitMQ, recorded the deletion; its
    deep health check asked every service over HTTP."""

    def deletions() -> list[dict[str, Any]]:
        response = http.get("/api/v1/logs/?action=identity.user.deleted", headers=admin)
        assert response.status_code == 200, response.text
        results: list[dict[str, Any]] = response.json()["results"]
        return results

    _eventually(lambda: len(deletions()) == 1)
    (entry,) = deletions()
    assert entry["service"] == "identity"
    assert entry["object_id"] == str(user_id)
    health = http.get("/api/v1/health-check/", headers=admin)
    assert health.status_code == 200, health.text
    assert health.json()["status"] == "healthy", health.text
    assert set(health.json()["checks"]["services"]) == set(SERVICES)
