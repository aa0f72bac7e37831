"""The deep health check: every service's readiness through the runtime's service directory,
each database, the broker with queue depths, the cache; healthy, degraded or unhealthy (503)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from bandstand import registry
from bandstand.admin.events import AUDIT_QUEUE
from bandstand.platform.directory import ReadinessProbe, asgi_probe, http_probe
from bandstand.platform.runtime import Runtime
from bandstand.platform.settings import Settings
from tests.admin.conftest import Admin
from tests.support.servers import free_port

UP = {"database": {"status": "up"}, "broker": {"status": "up"}, "cache": {"status": "up"}}


def ready(queues: dict[str, int] | None = None) -> ReadinessProbe:
    async def probe(_authorization: str | None) -> tuple[int, dict[str, Any]]:
        return 200, {"status": "ready", "checks": UP, "queues": queues or {}}

    return probe


def database_down() -> ReadinessProbe:
    async def probe(_authorization: str | None) -> tuple[int, dict[str, Any]]:
        checks = {**UP, "database": {"status": "down", "error": "connection refused"}}
        return 503, {"status": "not ready", "checks": checks, "detail": "unavailable: database"}

    return probe


def unreachable() -> ReadinessProbe:
    async def probe(_authorization: str | None) -> tuple[int, dict[str, Any]]:
        raise ConnectionRefusedError("connection refused")

    return probe


def silent() -> ReadinessProbe:
    async def probe(_authorization: str | None) -> tuple[int, dict[str, Any]]:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    return probe


async def _check(admin: Admin, /, **probes: ReadinessProbe) -> tuple[int, dict[str, Any]]:
    for name, probe in probes.items():
        admin.runtime.services.register(name, probe)
    response = await admin.client.get("/api/v1/health-check/", headers=admin.admin)
    return response.status_code, response.json()


async def test_everything_up_is_healthy(admin: Admin) -> None:
    status, body = await _check(
        admin,
        identity=ready(),
        music=ready({"music.identity-events": 3, "music.identity-events.dlq": 0}),
        admin=asgi_probe(admin.app),
    )
    assert status == 200
    assert body["status"] == "healthy"
    assert body["service"] == "admin"
    assert body["timestamp"].endswith("Z")
    checks = body["checks"]
    assert set(checks) == {"services", "databases", "broker", "cache"}
    assert {name: s["status"] for name, s in checks["services"].items()} == {
        "identity": "up",
        "music": "up",
        "admin": "up",
    }
    assert checks["databases"] == {
        name: {"status": "up"} for name in ("identity", "music", "admin")
    }
    assert checks["broker"]["status"] == "up"
    # Depths from every service's /ready, admin's own (through its real /ready) among them.
    assert checks["broker"]["queues"]["music.identity-events"] == 3
    assert AUDIT_QUEUE in checks["broker"]["queues"]
    assert checks["cache"] == {"status": "up"}


async def test_a_service_whose_database_is_down_degrades(admin: Admin) -> None:
    status, body = await _check(admin, identity=ready(), music=database_down())
    assert status == 200
    assert body["status"] == "degraded"
    assert body["checks"]["services"]["music"]["status"] == "down"
    assert body["checks"]["databases"]["music"]["status"] == "down"
    assert body["detail"] == "not ready: music"


@pytest.mark.parametrize("probe", [unreachable, silent], ids=["refused", "no-answer"])
async def test_an_unreachable_service_degrades(admin: Admin, probe: Any) -> None:
    admin.app.state.health_probe_timeout = 0.05
    status, body = await _check(admin, identity=ready(), concerts=probe())
    assert status == 200
    assert body["status"] == "degraded"
    concerts = body["checks"]["services"]["concerts"]
    assert concerts["status"] == "down"
    assert concerts["error"]
    assert body["checks"]["databases"]["concerts"]["status"] == "unknown"


async def test_a_service_without_a_database_is_not_counted_as_a_database_down(
    admin: Admin,
) -> None:
    async def sessions_only(_authorization: str | None) -> tuple[int, dict[str, Any]]:
        return 200, {"status": "ready", "checks": {"cache": {"status": "up"}}}

    status, body = await _check(
        admin, identity=ready(), web=sessions_only, admin=asgi_probe(admin.app)
    )
    assert status == 200
    assert body["status"] == "healthy"
    assert body["checks"]["services"]["web"]["status"] == "up"
    assert "web" not in body["checks"]["databases"]


async def test_identity_down_is_unhealthy_and_503(admin: Admin) -> None:
    status, body = await _check(admin, identity=unreachable(), music=ready())
    assert status == 503
    assert body["status"] == "unhealthy"


async def test_every_service_down_is_unhealthy(admin: Admin) -> None:
    status, body = await _check(admin, music=unreachable(), concerts=database_down())
    assert status == 503
    assert body["status"] == "unhealthy"


async def test_the_broker_down_is_unhealthy(admin: Admin, monkeypatch: pytest.MonkeyPatch) -> None:
    async def refuse() -> None:
        raise ConnectionRefusedError("broker refused the connection")

    monkeypatch.setattr(admin.runtime.broker, "ping", refuse)
    status, body = await _check(admin, identity=ready())
    assert status == 503
    assert body["status"] == "unhealthy"
    assert body["checks"]["broker"]["status"] == "down"
    assert "refused" in body["checks"]["broker"]["error"]


async def test_the_cache_down_degrades(admin: Admin, monkeypatch: pytest.MonkeyPatch) -> None:
    async def refuse() -> None:
        raise ConnectionRefusedError("cache refused the connection")

    monkeypatch.setattr(admin.runtime.cache, "ping", refuse)
    status, body = await _check(admin, identity=ready())
    assert status == 200
    assert body["status"] == "degraded"
    assert body["checks"]["cache"]["status"] == "down"


@pytest.fixture
async def ready_server() -> AsyncIterator[str]:
    """A service's /ready over real HTTP on a loopback port."""

    async def answer(request: web.Request) -> web.Response:
        body: dict[str, Any] = {"status": "ready", "checks": UP}
        if request.query.get("queues") == "1":
            body["queues"] = {"q": 1}
        return web.json_response(body)

    app = web.Application()
    app.router.add_get("/ready", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_distributed_services_are_asked_over_http(admin: Admin, ready_server: str) -> None:
    status, body = await _check(
        admin,
        identity=http_probe(ready_server),
        music=http_probe(f"http://127.0.0.1:{free_port()}"),
    )
    assert status == 200
    assert body["status"] == "degraded"
    assert body["checks"]["services"]["identity"]["status"] == "up"
    assert body["checks"]["broker"]["queues"]["q"] == 1
    assert body["checks"]["services"]["music"]["status"] == "down"


def test_the_registry_fills_the_directory_in_both_modes(
    make_settings: Any,
) -> None:
    settings: Settings = make_settings(service_urls={"music": "http://music.internal:9000"})
    assert registry.distributed_runtime(settings).services.names() == registry.names()
    runtime = Runtime(settings)
    registry.embedded_gateway(runtime)
    assert runtime.services.names() == registry.names()


async def test_ready_reports_queue_depths_only_when_asked(admin: Admin) -> None:
    """An orchestrator's frequent probes do not pay for measuring queues."""
    await admin.subscribed()
    plain = await admin.client.get("/ready")
    assert plain.status_code == 200
    assert "queues" not in plain.json()
    asked = await admin.client.get("/ready?queues=1")
    assert asked.json()["queues"] == {AUDIT_QUEUE: 0, f"{AUDIT_QUEUE}.dlq": 0}


async def test_ready_tells_why_a_check_failed_to_admins_only(
    admin: Admin, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse() -> None:
        raise ConnectionRefusedError("cache at secret-host:6379 refused the connection")

    monkeypatch.setattr(admin.runtime.cache, "ping", refuse)
    anonymous = await admin.client.get("/ready")
    assert anonymous.status_code == 503
    assert anonymous.json()["checks"]["cache"] == {"status": "down"}
    assert "secret-host" not in anonymous.text
    as_user = await admin.client.get("/ready", headers=admin.alice)
    assert "secret-host" not in as_user.text
    as_admin = await admin.client.get("/ready", headers=admin.admin)
    assert as_admin.status_code == 503
    assert "secret-host" in as_admin.json()["checks"]["cache"]["error"]


async def test_the_deep_health_check_asks_services_with_the_admins_token(admin: Admin) -> None:
    """A service reached over HTTP shows why its checks failed to an admin's token only, so
    the deep health check sends the admin's own."""
    sent: list[str | None] = []

    async def answer(request: web.Request) -> web.Response:
        sent.append(request.headers.get("Authorization"))
        return web.json_response({"status": "ready", "checks": UP})

    app = web.Application()
    app.router.add_get("/ready", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        status, _ = await _check(admin, identity=http_probe(f"http://127.0.0.1:{port}"))
    finally:
        await runner.cleanup()
    assert status == 200
    assert sent == [admin.admin["Authorization"]]


async def test_the_security_store_down_shows_as_the_cache(
    admin: Admin, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse() -> None:
        raise ConnectionRefusedError("security store refused the connection")

    monkeypatch.setattr(admin.runtime.security_store, "ping", refuse)
    status, body = await _check(admin, identity=ready())
    assert status == 200
    assert body["status"] == "degraded"
    assert body["checks"]["cache"]["status"] == "down"
    assert "security store" in body["checks"]["cache"]["error"]
