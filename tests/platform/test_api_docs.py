"""`/docs` works offline: the page loads Swagger UI from its own host, for a service and for the
gateway, and every file it names is there with the right type and long caching."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from bandstand.gateway.app import create_gateway_app
from bandstand.gateway.routes import RouteTable
from bandstand.gateway.upstream import InProcessUpstream, Upstream
from bandstand.platform.runtime import Runtime
from bandstand.platform.settings import Settings
from tests.gateway.upstreams import alpha_app, beta_app
from tests.platform import sample_service
from tests.support.client import api_client

EXPECTED_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


@pytest.fixture
async def service(make_settings: Callable[..., Settings]) -> AsyncIterator[httpx.AsyncClient]:
    app = sample_service.create_app(Runtime(make_settings()))
    async with api_client(app) as http:
        yield http


@pytest.fixture
async def gateway(make_settings: Callable[..., Settings]) -> AsyncIterator[httpx.AsyncClient]:
    # The prefix `/` claims every path: the docs assets must still be the gateway's own.
    routes = RouteTable([("/api/v1/alpha", "alpha"), ("/", "beta")])
    upstreams: dict[str, Upstream] = {
        app.title: InProcessUpstream(app.title, app) for app in (alpha_app(), beta_app())
    }
    app: Any = create_gateway_app(routes, upstreams, make_settings(), access_log=False)
    async with api_client(app) as http:
        yield http


def _referenced(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="([^"]+)"', html)


async def _check_docs(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in page.text
    # No URL of any host: everything comes from the one that served the page.
    assert re.search(r"""["'(]\s*(?:https?:)?//""", page.text) is None, page.text
    assets = _referenced(page.text)
    assert len(assets) == 3, assets
    for url in assets:
        assert url.startswith("/docs/assets/"), url
        response = await client.get(url)
        assert response.status_code == 200, url
        suffix = url.split("?")[0][url.split("?")[0].rfind(".") :]
        assert response.headers["content-type"].startswith(EXPECTED_TYPES[suffix]), url
        assert "max-age=31536000" in response.headers["cache-control"]
        assert response.content
        again = await client.get(url, headers={"If-None-Match": response.headers["etag"]})
        assert again.status_code == 304
        assert not again.content
    assert (await client.get("/openapi.json")).status_code == 200


async def test_a_service_docs_page_is_served_offline(service: httpx.AsyncClient) -> None:
    await _check_docs(service)


async def test_the_gateway_docs_page_is_served_offline(gateway: httpx.AsyncClient) -> None:
    await _check_docs(gateway)


async def test_the_swagger_bundle_is_the_real_one(gateway: httpx.AsyncClient) -> None:
    page = await gateway.get("/docs")
    bundle = next(url for url in _referenced(page.text) if "swagger-ui-bundle.js" in url)
    body = (await gateway.get(bundle)).text
    assert "SwaggerUIBundle" in body
    assert len(body) > 500_000


@pytest.mark.parametrize("name", ["nothing.js", "LICENSE", "..%2Fapi_docs.py", "README.md"])
async def test_only_the_docs_assets_are_served(
    service: httpx.AsyncClient, gateway: httpx.AsyncClient, name: str
) -> None:
    for client in (service, gateway):
        response = await client.get(f"/docs/assets/{name}")
        assert response.status_code == 404
