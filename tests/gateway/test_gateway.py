"""The gateway in-process, in front of stand-in services mounted in it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from bandstand import __version__
from bandstand.gateway.app import create_gateway_app
from bandstand.gateway.upstream import InProcessUpstream, Upstream
from bandstand.platform.runtime import Runtime
from bandstand.platform.settings import Settings
from tests.gateway.upstreams import ROUTES, alpha_app, beta_app, header
from tests.support.client import api_client
from tests.support.tokens import TokenFactory

LIMIT = 1024
TOKENS = TokenFactory()
# Made once at import: it must outlive the whole run, however long.
ADMIN = TOKENS.headers(user_id=1, role="admin", lifetime=24 * 3600)


def _gateway(settings: Settings, *apps: FastAPI) -> Any:
    upstreams: dict[str, Upstream] = {app.title: InProcessUpstream(app.title, app) for app in apps}
    verifier = Runtime(settings, jwks_fetch=TOKENS.jwks).verifier
    return create_gateway_app(ROUTES, upstreams, settings, access_log=False, verify=verifier.verify)


@pytest.fixture
def alpha() -> FastAPI:
    return alpha_app()


@pytest.fixture
async def client(
    make_settings: Callable[..., Settings], alpha: FastAPI
) -> AsyncIterator[httpx.AsyncClient]:
    gateway = _gateway(make_settings(max_body_bytes=LIMIT), alpha, beta_app())
    async with api_client(gateway) as http:
        yield http


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/api/v1/alpha", "alpha"),
        ("/api/v1/alpha/", "alpha"),
        ("/api/v1/alpha/things/7", "alpha"),
        ("/legacy/anything", "alpha"),
        ("/api/v1/beta/x", "beta"),
    ],
)
async def test_dispatch_by_prefix(client: httpx.AsyncClient, path: str, service: str) -> None:
    response = await client.get(path, params={"q": "1"})
    assert response.status_code == 200
    body = response.json()
    assert body["service"] == service
    assert body["path"] == path  # handed over untouched
    assert body["query"] == "q=1"


async def test_requests_reach_the_services_own_routes(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/beta/items", json={"price": 3})
    assert response.status_code == 200
    assert response.json() == {"price": 3}
    assert (await client.get("/legacy/things")).json() == ["thing"]


@pytest.mark.parametrize("path", ["/", "/api/v1/alphabet", "/api/v1", "/nowhere/at/all"])
async def test_unknown_paths_are_a_json_404(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": "Not Found"}


@pytest.mark.parametrize("path", ["/health", "/health/"])
async def test_health(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.json() == {"status": "healthy", "service": "gateway", "version": __version__}


async def test_ready_when_every_service_is(client: httpx.AsyncClient) -> None:
    response = await client.get("/ready", headers=ADMIN)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["services"]["alpha"]["status"] == "up"
    assert body["services"]["beta"]["checks"] == {"database": {"status": "up"}}


async def test_ready_names_the_service_that_is_down_to_an_admin(
    make_settings: Callable[..., Settings],
) -> None:
    gateway = _gateway(make_settings(), alpha_app(), beta_app(ready=False))
    async with api_client(gateway) as http:
        response = await http.get("/ready/", headers=ADMIN)
    assert response.status_code == 503
    body = response.json()
    assert body["detail"] == "unavailable: beta"
    assert body["services"]["beta"]["checks"]["database"] == {
        "status": "down",
        "error": "database is down",
    }
    assert body["services"]["alpha"]["status"] == "up"


@pytest.mark.parametrize(
    "headers",
    [{}, TOKENS.headers(role="user"), {"Authorization": "Bearer not-a-token"}],
    ids=["anonymous", "user", "bad-token"],
)
async def test_ready_tells_anyone_else_its_status_alone(
    make_settings: Callable[..., Settings], headers: dict[str, str]
) -> None:
    for ready, status, word in ((True, 200, "ready"), (False, 503, "not ready")):
        gateway = _gateway(make_settings(), alpha_app(), beta_app(ready=ready))
        async with api_client(gateway) as http:
            response = await http.get("/ready", headers=headers)
        assert response.status_code == status
        assert response.json() == {"status": word}
        assert "database is down" not in response.text


async def test_metrics_count_requests_per_upstream(client: httpx.AsyncClient) -> None:
    await client.get("/api/v1/beta/counted")
    response = await client.get("/metrics", headers=ADMIN)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert re.search(
        r'bandstand_http_requests_total\{method="GET",route="upstream:beta",'
        r'service="gateway",status="200"\} [1-9]',
        response.text,
    )


async def test_metrics_are_for_admins(client: httpx.AsyncClient) -> None:
    anonymous = await client.get("/metrics")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert "bandstand_http_requests_total" not in anonymous.text
    forged = await client.get("/metrics", headers={"Authorization": "Bearer x.y.z"})
    assert forged.status_code == 401
    user = await client.get("/metrics", headers=TOKENS.headers(role="user"))
    assert user.status_code == 403
    assert "bandstand_http_requests_total" not in user.text


async def test_metrics_public_by_setting(make_settings: Callable[..., Settings]) -> None:
    gateway = _gateway(make_settings(metrics_public=True), alpha_app(), beta_app(ready=False))
    async with api_client(gateway) as http:
        metrics = await http.get("/metrics")
        ready = await http.get("/ready")
    assert metrics.status_code == 200
    assert "bandstand_http_requests_total" in metrics.text
    assert ready.status_code == 503
    assert ready.json()["detail"] == "unavailable: beta"


async def test_docs_page_points_at_the_merged_document(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert "/openapi.json" in response.text


async def test_merged_openapi(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["info"]["version"] == __version__
    assert set(document["paths"]) == {
        "/api/v1/alpha/items",
        "/api/v1/beta/items",
        "/legacy/things",
    }
    schemas = document["components"]["schemas"]
    assert set(schemas["Item"]["properties"]) == {"name"}
    assert set(schemas["beta__Item"]["properties"]) == {"price"}
    beta_item = document["paths"]["/api/v1/beta/items"]["post"]
    assert beta_item["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/beta__Item"
    }


async def test_the_gateway_runs_the_lifespan_of_mounted_services(
    make_settings: Callable[..., Settings],
) -> None:
    alpha = alpha_app()
    async with api_client(_gateway(make_settings(), alpha, beta_app())) as http:
        assert alpha.state.events == ["startup"]
        assert (await http.get("/api/v1/alpha/x")).status_code == 200
    assert alpha.state.events == ["startup", "shutdown"]


# Body size limit


async def test_body_at_the_limit_passes(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/alpha/upload", content=b"x" * LIMIT)
    assert response.status_code == 200
    assert response.json()["size"] == LIMIT


async def test_body_over_the_limit_by_content_length(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/alpha/upload", content=b"x" * (LIMIT + 1))
    assert response.status_code == 413
    assert response.json() == {"detail": f"Request body larger than {LIMIT} bytes"}
    assert response.headers["x-request-id"]


async def _chunks(size: int, chunk: int = 100) -> AsyncIterator[bytes]:
    sent = 0
    while sent < size:
        part = min(chunk, size - sent)
        sent += part
        yield b"y" * part


async def test_chunked_body_over_the_limit(client: httpx.AsyncClient, alpha: FastAPI) -> None:
    response = await client.post("/api/v1/alpha/upload", content=_chunks(LIMIT * 3))
    assert response.status_code == 413
    assert response.json() == {"detail": f"Request body larger than {LIMIT} bytes"}


async def test_chunked_body_under_the_limit_arrives_whole(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/alpha/upload", content=_chunks(LIMIT - 10))
    assert response.status_code == 200
    body = response.json()
    assert body["size"] == LIMIT - 10
    assert header(body, "transfer-encoding") == ["chunked"]


async def test_default_limit_is_one_mebibyte(make_settings: Callable[..., Settings]) -> None:
    async with api_client(_gateway(make_settings(), alpha_app(), beta_app())) as http:
        ok = await http.put("/api/v1/alpha/blob", content=b"z" * (1024 * 1024))
        too_big = await http.put("/api/v1/alpha/blob", content=b"z" * (1024 * 1024 + 1))
    assert ok.status_code == 200
    assert too_big.status_code == 413


# CORS


async def test_cors_preflight_when_origins_are_configured(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(cors_origins=["https://app.example"])
    async with api_client(_gateway(settings, alpha_app(), beta_app())) as http:
        preflight = await http.options(
            "/api/v1/alpha/items",
            headers={
                "Origin": "https://app.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        simple = await http.get("/api/v1/alpha/x", headers={"Origin": "https://app.example"})
        stranger = await http.get("/api/v1/alpha/x", headers={"Origin": "https://evil.example"})
        refused = await http.options(
            "/api/v1/alpha/items",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert simple.headers["access-control-allow-origin"] == "https://app.example"
    assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()
    assert "access-control-allow-origin" not in stranger.headers
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers


async def test_no_cors_headers_when_no_origin_is_configured(client: httpx.AsyncClient) -> None:
    simple = await client.get("/api/v1/alpha/x", headers={"Origin": "https://app.example"})
    preflight = await client.options(
        "/api/v1/alpha/items",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
    )
    for response in (simple, preflight):
        assert not [name for name in response.headers if name.startswith("access-control-")]


# Request id


async def test_a_request_id_is_made_echoed_and_passed_on(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/alpha/x")
    request_id = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert header(response.json(), "x-request-id") == [request_id]
    again = await client.get("/api/v1/alpha/x")
    assert again.headers["x-request-id"] != request_id


async def test_a_given_request_id_is_kept(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/beta/x", headers={"X-Request-ID": "trace-42"})
    assert response.headers["x-request-id"] == "trace-42"
    assert header(response.json(), "x-request-id") == ["trace-42"]


async def test_an_oversized_request_id_is_replaced(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/beta/x", headers={"X-Request-ID": "x" * 500})
    request_id = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert header(response.json(), "x-request-id") == [request_id]


async def test_own_endpoints_and_errors_carry_a_request_id(client: httpx.AsyncClient) -> None:
    for path in ("/health", "/nowhere"):
        response = await client.get(path, headers={"X-Request-ID": "abc"})
        assert response.headers["x-request-id"] == "abc"


async def test_websockets_are_refused(make_settings: Callable[..., Settings]) -> None:
    gateway = _gateway(make_settings(), alpha_app(), beta_app())
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": "/api/v1/alpha/ws", "headers": [], "query_string": b""}
    await gateway(scope, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1000}]


async def test_a_failed_start_stops_what_had_started(
    make_settings: Callable[..., Settings],
) -> None:
    class Broken:
        name = "broken"

        async def start(self) -> None:
            raise ConnectionError("no way")

        async def stop(self) -> None:
            raise AssertionError("never started, so never stopped")

    alpha = alpha_app()
    upstreams: dict[str, Any] = {"alpha": InProcessUpstream("alpha", alpha), "broken": Broken()}
    gateway = create_gateway_app(ROUTES, upstreams, make_settings(), access_log=False)
    with pytest.raises(RuntimeError, match="no way"):
        async with api_client(gateway):
            pass
    assert alpha.state.events == ["startup", "shutdown"]
