"""Every service and the gateway as separate `bandstand serve` processes talking HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bandstand import registry
from tests.e2e.processes import Bandstand, bandstand_env
from tests.support.servers import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
PASSWORD = "Distributed-Pass-1"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _service(name: str, port: int, database_url: str, tmp_path: Path, **settings: str) -> Bandstand:
    return Bandstand(
        "serve",
        name,
        "--port",
        str(port),
        "--data-dir",
        str(tmp_path / name),
        env=bandstand_env(**{f"BANDSTAND_DATABASES__{name.upper()}": database_url}, **settings),
        workdir=tmp_path / name,
        name=name,
    )


def test_identity_behind_the_gateway(
    postgres_url_factory: Callable[[str], str], tmp_path: Path
) -> None:
    identity_port, gateway_port = free_port(), free_port()
    identity_url = f"http://127.0.0.1:{identity_port}"
    gateway_url = f"http://127.0.0.1:{gateway_port}"
    # Services believe X-Forwarded-For from the gateway (on loopback here) alone.
    trust_gateway = {"BANDSTAND_TRUSTED_PROXIES": '["127.0.0.1/32"]'}
    identity_database = postgres_url_factory("identity")
    identity = _service("identity", identity_port, identity_database, tmp_path, **trust_gateway)
    # The gateway is ready when every service is: the others run too, on their own databases.
    others = {name: free_port() for name in registry.names() if name != "identity"}
    jwks = f"{identity_url}/.well-known/jwks.json"
    # The web reaches the other services' APIs at these URLs, as the gateway does.
    urls = {
        f"BANDSTAND_SERVICE_URLS__{name.upper()}": f"http://127.0.0.1:{port}"
        for name, port in {"identity": identity_port, **others}.items()
    }
    services = [
        identity,
        *(
            _service(
                name,
                port,
                postgres_url_factory(name),
                tmp_path,
                BANDSTAND_JWKS_URL=jwks,
                **trust_gateway,
                **urls,
            )
            for name, port in others.items()
        ),
    ]
    gateway = Bandstand(
        "serve",
        "gateway",
        "--port",
        str(gateway_port),
        "--data-dir",
        str(tmp_path / "gateway"),
        env=bandstand_env(**urls),
        workdir=tmp_path / "gateway",
        name="gateway",
    )
    with contextlib.ExitStack() as stack:
        for process in [*services, gateway]:
            stack.enter_context(process)
        http = stack.enter_context(httpx.Client(base_url=gateway_url, timeout=10))
        _walk_through(http, identity, gateway, identity_url, gateway_url)
        _admin_sees_the_detail(http, identity_database)
        assert gateway.stop(signal.SIGTERM) == 0, gateway.log()[-4000:]
        for process in services:
            assert process.stop(signal.SIGTERM) == 0, process.log()[-4000:]
    for process in [*services, gateway]:
        assert "Traceback" not in process.log(), process.log()[-4000:]


def _walk_through(
    http: httpx.Client,
    identity: Bandstand,
    gateway: Bandstand,
    identity_url: str,
    gateway_url: str,
) -> None:
    identity_health = identity.wait_until_serving(f"{identity_url}/health/")
    assert identity_health.json()["service"] == "identity"
    gateway_health = gateway.wait_until_serving(f"{gateway_url}/health/")
    assert gateway_health.json()["service"] == "gateway"
    ready = gateway.wait_until_serving(f"{gateway_url}/ready")
    assert ready.json() == {"status": "ready"}
    assert http.get("/metrics").status_code == 401

    # The gateway replaces what a client says of its address: rotating it does not escape
    # the login limit, which the service applies to the address the gateway saw.
    statuses = [
        http.post(
            "/api/v1/login",
            json={"username": "nobody", "password": PASSWORD},
            headers={"X-Forwarded-For": f"198.51.100.{n}"},
        ).status_code
        for n in range(1, 8)
    ]
    assert statuses[:5] == [401] * 5
    assert set(statuses[5:]) == {429}

    # register -> login -> profile -> refresh -> logout, all through the gateway
    registered = http.post(
        "/api/v1/register",
        json={"username": "grace", "email": "grace@example.com", "password": PASSWORD},
    )
    assert registered.status_code == 201, registered.text
    assert registered.headers["location"].startswith("/api/v1/users/")
    login = http.post(
        "/api/v1/login",
        json={"username": "grace", "password": PASSWORD},
        headers={"X-Request-ID": "e2e-login-1"},
    )
    assert login.status_code == 200, login.text
    assert login.headers["x-request-id"] == "e2e-login-1"
    tokens = login.json()
    profile = http.get("/api/v1/profile", headers=_bearer(tokens["access_token"]))
    assert profile.status_code == 200, profile.text
    assert profile.json()["user"]["email"] == "grace@example.com"
    refreshed = http.post("/api/v1/token/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    pair = refreshed.json()
    assert pair["refresh_token"] != tokens["refresh_token"]
    logout = http.post(
        "/api/v1/logout",
        json={"refresh_token": pair["refresh_token"]},
        headers=_bearer(pair["access_token"]),
    )
    assert logout.status_code == 200, logout.text
    again = http.get("/api/v1/profile", headers=_bearer(pair["access_token"]))
    assert again.status_code == 401
    assert http.get("/openapi.json").json()["paths"].keys() >= {"/api/v1/login"}
    _signs_in_on_the_pages(gateway_url)

    # One request id in both processes' access logs.
    for process, service in ((gateway, "gateway"), (identity, "identity")):
        lines = [json.loads(line) for line in process.log().splitlines() if line[:1] == "{"]
        assert any(
            line.get("request_id") == "e2e-login-1"
            and line.get("service") == service
            and line.get("path") == "/api/v1/login"
            and line.get("status") == 200
            for line in lines
        ), service

    # Identity stops: the gateway answers 502 at once and says it is not ready.
    assert identity.stop(signal.SIGTERM) == 0, identity.log()[-4000:]
    down = http.post("/api/v1/login", json={"username": "grace", "password": PASSWORD})
    assert down.status_code == 502
    assert down.json() == {"detail": "identity service unavailable"}
    not_ready = http.get("/ready")
    assert not_ready.status_code == 503
    assert not_ready.json() == {"status": "not ready"}
    assert http.get("/health").status_code == 200

    # Identity is back: so is the gateway, with the data kept in PostgreSQL.
    identity.start()
    identity.wait_until_serving(f"{identity_url}/health/")
    back = http.post("/api/v1/login", json={"username": "grace", "password": PASSWORD})
    assert back.status_code == 200, back.text
    assert http.get("/ready").status_code == 200


def _admin_sees_the_detail(http: httpx.Client, identity_database: str) -> None:
    """The gateway checks an admin's token against identity's keys, fetched over HTTP."""
    registered = http.post(
        "/api/v1/register",
        json={"username": "root", "email": "root@example.com", "password": PASSWORD},
    )
    assert registered.status_code == 201, registered.text

    async def promote() -> None:
        engine = create_async_engine(identity_database)
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE users SET role = 'admin' WHERE username = 'root'")
            )
        await engine.dispose()

    asyncio.run(promote())
    login = http.post("/api/v1/login", json={"username": "root", "password": PASSWORD})
    assert login.status_code == 200, login.text
    admin = _bearer(login.json()["access_token"])
    metrics = http.get("/metrics", headers=admin)
    assert metrics.status_code == 200
    assert "bandstand_http_requests_total" in metrics.text
    ready = http.get("/ready", headers=admin)
    assert ready.json()["services"]["identity"]["checks"]["database"] == {"status": "up"}


def _signs_in_on_the_pages(gateway_url: str) -> None:
    """The web, its own process, signs in through identity's API over HTTP."""
    with httpx.Client(base_url=gateway_url, timeout=10) as browser:
        form = browser.get("/login")
        assert form.status_code == 200
        assert "text/html" in form.headers["content-type"]
        signed_in = browser.post(
            "/login",
            data={
                "csrftoken": browser.cookies["csrftoken"],
                "login": "grace",
                "password": PASSWORD,
                "next": "/account",
            },
        )
        assert signed_in.status_code == 303, signed_in.text
        assert signed_in.headers["location"] == "/account"
        account = browser.get("/account")
        assert account.status_code == 200
        assert 'value="grace@example.com"' in account.text
