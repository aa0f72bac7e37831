"""The kernel around a service: transactions, errors, pagination, auth, health and metrics."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import opentelemetry.trace
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bandstand.platform.runtime import Runtime
from bandstand.platform.settings import Settings
from tests.platform import sample_service
from tests.platform.test_security import _jwk
from tests.support.client import api_client

SIGNING_KEY = Ed25519PrivateKey.generate()


def token(role: str = "user", user_id: int = 1) -> dict[str, str]:
    now = int(time.time())
    claims = {
        "sub": str(user_id),
        "role": role,
        "iat": now,
        "exp": now + 60,
        "jti": f"jti-{role}-{user_id}",
        "iss": "bandstand-identity",
        "aud": "bandstand",
    }
    encoded = jwt.encode(claims, SIGNING_KEY, algorithm="EdDSA", headers={"kid": "test"})
    return {"Authorization": f"Bearer {encoded}"}


async def _keys() -> dict[str, Any]:
    return {"keys": [_jwk(SIGNING_KEY, "test")]}


def build_app(settings: Settings) -> Any:
    runtime = Runtime(settings, jwks_fetch=_keys)
    return sample_service.create_app(runtime)


@pytest.fixture
def client(sample_client: httpx.AsyncClient) -> httpx.AsyncClient:
    return sample_client


async def _count(client: httpx.AsyncClient) -> int:
    return int((await client.get("/api/v1/notes/count")).json()["count"])


async def test_success_commits(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/notes", json={"text": "hello"})
    assert response.status_code == 201
    assert await _count(client) == 1


async def test_error_rolls_back(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/notes/then-fail", json={"text": "nope"})
    assert response.status_code == 409
    assert response.json() == {"detail": "changed my mind"}
    assert await _count(client) == 0


async def test_crash_rolls_back_and_is_a_json_500(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/notes/then-crash", json={"text": "boom"})
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error"}
    assert await _count(client) == 0


async def test_conflict_at_commit_is_409_not_a_false_success(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/v1/notes", json={"text": "same"})).status_code == 201
    response = await client.post("/api/v1/notes/unflushed", json={"text": "same"})
    assert response.status_code == 409
    assert "detail" in response.json()
    assert await _count(client) == 1


async def test_validation_errors_name_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/notes", json={"text": "x" * 101})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "text"]
    malformed = await client.post(
        "/api/v1/notes", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 422
    assert await _count(client) == 0


async def test_legacy_routes_repeat_the_message_under_their_key(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/legacy/notes/42")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Note 42 not found", "error": "Note 42 not found"}
    invalid = await client.get("/api/v1/legacy/notes/abc")
    assert invalid.status_code == 400
    assert "note_id" in invalid.json()["error"]


async def test_pagination_links_and_bounds(client: httpx.AsyncClient) -> None:
    for number in range(25):
        await client.post("/api/v1/notes", json={"text": f"note {number:02d}"})
    first = (await client.get("/api/v1/notes?page_size=10")).json()
    assert first["count"] == 25
    assert first["previous"] is None
    # `next` names where the page after starts by a cursor; `page=2` still reads the same page.
    assert "cursor=" in first["next"]
    assert "page=" not in first["next"]
    assert "page_size=10" in first["next"]
    second = (await client.get(first["next"])).json()
    assert second == {
        **(await client.get("/api/v1/notes?page=2&page_size=10")).json(),
        "next": second["next"],
        "previous": second["previous"],
    }
    seen = [note["text"] for note in first["results"]]
    next_url = first["next"]
    while next_url:
        page = (await client.get(next_url)).json()
        seen.extend(note["text"] for note in page["results"])
        next_url = page["next"]
    assert seen == [f"note {number:02d}" for number in range(25)]
    assert (await client.get("/api/v1/notes?page=4&page_size=10")).status_code == 404
    # An offset beyond any database integer is still only a page past the end.
    assert (await client.get(f"/api/v1/notes?page={10**30}")).status_code == 404
    assert (await client.get("/api/v1/notes?page_size=1000")).status_code == 422
    assert (await client.get("/api/v1/notes?page=0")).status_code == 422


async def test_trailing_slash_is_optional(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/notes/", json={"text": "slash"})
    assert response.status_code == 201
    assert (await client.get("/api/v1/notes/count/")).json() == {"count": 1}


async def test_auth_dependencies(client: httpx.AsyncClient) -> None:
    anonymous = await client.get("/api/v1/whoami")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert (await client.get("/api/v1/whoami", headers=token("user", 5))).json() == {
        "id": 5,
        "role": "user",
    }
    forbidden = await client.get("/api/v1/admin-only", headers=token("user"))
    assert forbidden.status_code == 403
    assert forbidden.json() == {"detail": "Insufficient permissions"}
    assert (await client.get("/api/v1/admin-only", headers=token("admin"))).status_code == 200
    garbage = await client.get("/api/v1/whoami", headers={"Authorization": "Bearer abc"})
    assert garbage.status_code == 401


async def test_health_ready_metrics_and_request_id(client: httpx.AsyncClient) -> None:
    health = await client.get("/health/")
    assert health.json()["status"] == "healthy"
    assert health.json()["service"] == "sample"
    ready = await client.get("/ready")
    assert ready.status_code == 200
    assert set(ready.json()["checks"]) == {"database", "broker", "cache"}
    echoed = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    assert len(health.headers["x-request-id"]) == 32
    metrics = await client.get("/metrics")
    assert "bandstand_http_requests_total" in metrics.text
    assert 'service="sample"' in metrics.text


async def test_database_down_is_503_and_ready_names_it(
    make_settings: Callable[..., Settings],
) -> None:
    unreachable = "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"
    app = build_app(make_settings(databases={"sample": unreachable}))
    async with api_client(app) as http:
        response = await http.post("/api/v1/notes", json={"text": "lost?"})
        assert response.status_code == 503
        assert "Database unavailable" in response.json()["detail"]
        ready = await http.get("/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"]["status"] == "down"
        assert "database" in ready.json()["detail"]


async def test_metrics_report_the_outbox_backlog(client: httpx.AsyncClient) -> None:
    await client.post("/api/v1/notes", json={"text": "an event"})
    metrics = (await client.get("/metrics")).text
    assert 'bandstand_outbox_pending{service="sample"}' in metrics


async def test_fastapi_native_telemetry_is_off(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The platform's metrics are Prometheus'; FastAPI's own instrumentation would look up
    OpenTelemetry's global providers on every request."""
    looked_up: list[str] = []
    real = opentelemetry.trace.get_tracer_provider

    def counting() -> Any:
        looked_up.append("tracer")
        return real()

    monkeypatch.setattr(opentelemetry.trace, "get_tracer_provider", counting)
    assert (await client.get("/health")).status_code == 200
    assert looked_up == []
