"""An upstream service on a real aiohttp server for the gateway's tests in distributed mode: it
echoes what it was sent, streams large bodies, waits, redirects and records what reached it."""

from __future__ import annotations

import asyncio
import hashlib
import random
from typing import Any

from aiohttp import web

from bandstand.gateway.app import create_gateway_app
from bandstand.gateway.proxy import HttpUpstream
from bandstand.gateway.upstream import Upstream
from bandstand.platform.settings import Settings
from tests.gateway.upstreams import ROUTES

MiB = 1024 * 1024
GATE = web.AppKey("gate", asyncio.Event)
RECEIVED = web.AppKey("received", list[int])
BIG = random.Random(7).randbytes(6 * MiB)
OPENAPI = {
    "openapi": "3.1.0",
    "info": {"title": "alpha", "version": "1"},
    "paths": {"/api/v1/alpha/things": {"get": {"responses": {"200": {"description": "ok"}}}}},
}


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def _echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.json_response(
        {
            "method": request.method,
            "target": request.raw_path,
            "headers": [[k.decode(), v.decode()] for k, v in request.raw_headers],
            "size": len(body),
            "sha256": digest(body),
        },
        headers={"X-Upstream": "yes", "Keep-Alive": "timeout=5"},
    )


async def _big_chunked(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
    await response.prepare(request)
    for start in range(0, len(BIG), 100_000):
        await response.write(BIG[start : start + 100_000])
    await response.write_eof()
    return response


async def _big_sized(_request: web.Request) -> web.Response:
    return web.Response(body=BIG, content_type="application/octet-stream")


async def _gated(request: web.Request) -> web.StreamResponse:
    """One mebibyte at once, the rest only when the test opens the gate."""
    response = web.StreamResponse()
    await response.prepare(request)
    await response.write(BIG[:MiB])
    await request.app[GATE].wait()
    await response.write(BIG[MiB:])
    await response.write_eof()
    return response


async def _slow(_request: web.Request) -> web.Response:
    await asyncio.sleep(30)
    return web.Response(text="too late")


async def _redirect(_request: web.Request) -> web.Response:
    raise web.HTTPFound("/api/v1/alpha/elsewhere")


async def _cookies(_request: web.Request) -> web.Response:
    response = web.Response(status=204)
    response.headers.add("Set-Cookie", "a=1; Path=/")
    response.headers.add("Set-Cookie", "b=2; Path=/")
    return response


async def _record(request: web.Request) -> web.Response:
    """Notes the size of each body received whole."""
    body = await request.read()
    request.app[RECEIVED].append(len(body))
    return web.json_response({"size": len(body)})


async def _openapi(_request: web.Request) -> web.Response:
    return web.json_response(OPENAPI)


async def _ready(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ready", "checks": {"database": {"status": "up"}}})


UPSTREAM_ROUTES = [
    web.get("/api/v1/alpha/big", _big_chunked),
    web.get("/api/v1/alpha/big-sized", _big_sized),
    web.get("/api/v1/alpha/gated", _gated),
    web.get("/api/v1/alpha/slow", _slow),
    web.get("/api/v1/alpha/redirect", _redirect),
    web.get("/api/v1/alpha/cookies", _cookies),
    web.post("/api/v1/alpha/record", _record),
    web.get("/openapi.json", _openapi),
    web.get("/ready", _ready),
    web.route("*", "/{tail:.*}", _echo),
]


def gateway_over_http(settings: Settings, alpha_url: str, beta_url: str, **options: Any) -> Any:
    upstreams: dict[str, Upstream] = {
        "alpha": HttpUpstream("alpha", alpha_url, **options),
        "beta": HttpUpstream("beta", beta_url, **options),
    }
    return create_gateway_app(ROUTES, upstreams, settings, access_log=False)
