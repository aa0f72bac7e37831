"""Small stand-in services for the gateway's tests, in-process or on a loopback port."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from fastapi import FastAPI, Request
from pydantic import create_model

from bandstand.gateway.routes import RouteTable


async def echo(request: Request) -> dict[str, Any]:
    """What arrived: the service's name, the request line, headers and a digest of the body."""
    body = await request.body()
    return {
        "service": request.app.title,
        "method": request.method,
        "path": request.url.path,
        "raw_path": request.scope.get("raw_path", b"").decode("latin-1"),
        "query": request.scope.get("query_string", b"").decode("latin-1"),
        "url": str(request.url),
        "headers": [
            [k.decode("latin-1"), v.decode("latin-1")] for k, v in request.scope["headers"]
        ],
        "size": len(body),
        "sha256": hashlib.sha256(body).hexdigest(),
    }


# Two services, two different schemas with the same name.
AlphaItem = create_model("Item", name=(str, ...))
BetaItem = create_model("Item", price=(int, ...))


def alpha_app() -> FastAPI:
    """Answers /api/v1/alpha/... and the inherited /legacy/...; its `Item` has a name."""
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    app = FastAPI(title="alpha", lifespan=lifespan)
    app.state.events = events

    @app.post("/api/v1/alpha/items", response_model=AlphaItem, tags=["alpha"])
    async def create_alpha_item(item: AlphaItem) -> Any:
        return item

    @app.get("/legacy/things", tags=["alpha"])
    async def legacy_things() -> list[str]:
        return ["thing"]

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "healthy", "service": "alpha"}

    app.add_api_route(
        "/{rest:path}",
        echo,
        methods=["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"],
        include_in_schema=False,
    )

    return app


def beta_app(*, ready: bool = True) -> FastAPI:
    """Answers /api/v1/beta/...; its `Item` has a price, so the merged schema must rename one."""
    app = FastAPI(title="beta")

    @app.post("/api/v1/beta/items", response_model=BetaItem, tags=["beta"])
    async def create_beta_item(item: BetaItem) -> Any:
        return item

    app.add_api_route("/{rest:path}", echo, methods=["GET", "POST"], include_in_schema=False)

    async def database() -> None:
        if not ready:
            raise ConnectionError("database is down")

    app.state.readiness_checks = {"database": database}
    return app


ROUTES = RouteTable(
    [
        ("/api/v1/alpha", "alpha"),
        ("/legacy", "alpha"),
        ("/api/v1/beta", "beta"),
    ]
)


def header(echoed: dict[str, Any], name: str) -> list[str]:
    """Every value of one header, as the upstream received it."""
    return [value for key, value in echoed["headers"] if key.lower() == name.lower()]


@asynccontextmanager
async def aiohttp_server(
    routes: list[web.RouteDef], state: dict[web.AppKey[Any], Any] | None = None
) -> AsyncIterator[tuple[str, web.Application]]:
    """An aiohttp.web app on a free loopback port of this event loop; yields its base URL."""
    app = web.Application(client_max_size=64 * 1024 * 1024)
    for key, value in (state or {}).items():
        app[key] = value
    app.add_routes(routes)
    runner = web.AppRunner(app, shutdown_timeout=0.5, handler_cancellation=True, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}", app
    finally:
        await runner.cleanup()


@asynccontextmanager
async def raw_server(
    handle: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Any],
) -> AsyncIterator[str]:
    """A bare TCP server speaking whatever `handle` writes; yields its base URL."""
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()
