"""The whole platform in-process behind the gateway, as `bandstand up` runs it: who the client
is, what the gateway tells whom about itself, and bodies no route may ever see."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx
import pytest

from bandstand import registry
from bandstand.platform.migrations import upgrade_blocking
from bandstand.platform.runtime import Runtime
from bandstand.platform.settings import Settings
from tests.support.client import api_client

# A peer on loopback: what a local attacker, or anyone behind a local proxy, looks like.
PEER = "127.0.0.1"
PASSWORD = "Edge-Passw0rd!"
DEEP = 100_000


@dataclass
class Platform:
    client: httpx.AsyncClient
    settings: Settings
    admin: dict[str, str]

    async def register_and_login(self, name: str, **headers: str) -> dict[str, str]:
        registered = await self.client.post(
            "/api/v1/register",
            json={"username": name, "email": f"{name}@example.com", "password": PASSWORD},
        )
        assert registered.status_code == 201, registered.text
        login = await self.client.post(
            "/api/v1/login", json={"username": name, "password": PASSWORD}, headers=headers
        )
        assert login.status_code == 200, login.text
        return {"Authorization": f"Bearer {login.json()['access_token']}"}


def _migrated(settings: Settings) -> None:
    for entry in registry.SERVICES:
        if entry.has_database:
            upgrade_blocking(settings.database_url(entry.name), entry.name, entry.migrations)


def _make_admin(settings: Settings, username: str) -> None:
    path = settings.database_url("identity").removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE users SET role = 'admin' WHERE username = ?", (username,))


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    settings = make_settings()
    _migrated(settings)
    return settings


@pytest.fixture
async def platform(settings: Settings) -> AsyncIterator[Platform]:
    gateway = registry.embedded_gateway(Runtime(settings))
    async with api_client(gateway, client=(PEER, 50000), timeout=30) as client:
        platform = Platform(client, settings, {})
        await platform.register_and_login("root")
        _make_admin(settings, "root")
        login = await client.post("/api/v1/login", json={"username": "root", "password": PASSWORD})
        platform.admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
        yield platform


async def _eventually(check: Callable[[], object], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


# Who the client is


async def test_a_forged_address_is_not_written_to_the_audit_log(platform: Platform) -> None:
    await platform.register_and_login("mallory", **{"X-Forwarded-For": "6.6.6.6"})
    entries: list[dict[str, object]] = []

    async def logged() -> bool:
        response = await platform.client.get(
            "/api/v1/logs", params={"action": "identity.user.logged_in"}, headers=platform.admin
        )
        assert response.status_code == 200, response.text
        entries[:] = [
            entry
            for entry in response.json()["results"]
            if entry["details"].get("username") == "mallory"
        ]
        return bool(entries)

    await _eventually(logged)
    assert [entry["ip_address"] for entry in entries] == [PEER]


# What the gateway tells whom


async def test_ready_detail_and_metrics_for_an_admin_only(platform: Platform) -> None:
    user = await platform.register_and_login("reader")
    anonymous = await platform.client.get("/ready")
    assert anonymous.status_code == 200
    assert anonymous.json() == {"status": "ready"}
    assert (await platform.client.get("/ready", headers=user)).json() == {"status": "ready"}
    detailed = await platform.client.get("/ready", headers=platform.admin)
    assert detailed.status_code == 200
    assert detailed.json()["services"]["identity"]["checks"]["database"] == {"status": "up"}

    assert (await platform.client.get("/metrics")).status_code == 401
    assert (await platform.client.get("/metrics", headers=user)).status_code == 403
    metrics = await platform.client.get("/metrics", headers=platform.admin)
    assert metrics.status_code == 200
    assert "bandstand_http_requests_total" in metrics.text


# Bodies no route may see

# One or more write routes of every service that takes a body, canonical and inherited,
# including those that parse their body themselves.
WRITE_ROUTES = [
    "/api/v1/register",
    "/api/v1/login",
    "/api/v1/songs",
    "/song",
    "/api/v1/concerts",
    "/api/movies",
    "/api/v1/courses/1/lessons",
    "/addInstrument",
    "/api/billing",
    "/api/v1/billing/orders",
    "/api/v1/settings",
]
DEEP_BODIES = {
    "open-brackets": b"[" * DEEP,
    "balanced-brackets": b"[" * DEEP + b"]" * DEEP,
    "objects": b'{"a":' * 5_000 + b"1" + b"}" * 5_000,
    "just-past-the-limit": b"[" * 201 + b"]" * 201,
}


NESTED = "Request body nested deeper than 200 levels"


@pytest.mark.parametrize("body", list(DEEP_BODIES.values()), ids=list(DEEP_BODIES))
async def test_deeply_nested_json_is_a_400_on_every_route(platform: Platform, body: bytes) -> None:
    for path in WRITE_ROUTES:
        for headers, statuses in (({}, {400, 401}), (platform.admin, {400})):
            # A route that reads its body after checking the caller may say 401 first.
            response = await platform.client.post(
                path, content=body, headers={**headers, "Content-Type": "application/json"}
            )
            assert response.status_code in statuses, (path, response.status_code, response.text)
            error = response.json()
            if response.status_code == 400:
                assert error["detail"] == NESTED, path
                # An inherited route says it under its own key too.
                assert set(error.values()) == {NESTED}, path


async def test_nesting_within_the_limit_and_brackets_in_strings_are_left_to_the_route(
    platform: Platform,
) -> None:
    # 200 levels is allowed (the route refuses it as an order); brackets in strings never count.
    nested = b"[" * 200 + b"]" * 200
    in_strings = b'{"total_amount": "' + b"[" * 1000 + b'", "x": "\\"[[["}'
    for body in (nested, in_strings):
        response = await platform.client.post(
            "/api/v1/billing/orders",
            content=body,
            headers={**platform.admin, "Content-Type": "application/json"},
        )
        assert response.status_code == 422, response.text


# Each service on its own (distributed mode): the same limits without the gateway in front

DIRECT_ROUTES = {
    "identity": "/api/v1/register",
    "music": "/song",
    "inventory": "/api/movies",
    "marketplace": "/addInstrument",
    "billing": "/api/billing",
    "admin": "/api/v1/settings",
}


async def _chunked(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), 512):
        yield data[start : start + 512]


@pytest.mark.parametrize("service", list(DIRECT_ROUTES))
async def test_each_service_enforces_the_body_limits_itself(
    settings: Settings, service: str
) -> None:
    limit = 2048
    alone = settings.model_copy(update={"max_body_bytes": limit})
    app = registry.service(service).create_app(Runtime(alone))
    path = DIRECT_ROUTES[service]
    too_large = b'{"title": "' + b"x" * limit + b'"}'
    json_body = {"Content-Type": "application/json"}
    async with api_client(app, client=(PEER, 50000)) as client:
        for content in (too_large, _chunked(too_large)):
            response = await client.post(path, content=content, headers=json_body)
            assert response.status_code == 413, response.text
            assert response.json() == {"detail": f"Request body larger than {limit} bytes"}
        deep = await client.post(path, content=b"[" * 1500, headers=json_body)
        assert deep.status_code in {400, 401}, deep.text
        if deep.status_code == 400:
            assert deep.json()["detail"] == NESTED
