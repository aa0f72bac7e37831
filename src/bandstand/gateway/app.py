"""The gateway application: edge middleware, its own endpoints, and dispatch to upstreams."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from fastapi.openapi.docs import get_swagger_ui_html
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bandstand import __version__
from bandstand.gateway.docs import collect_documents, merge_documents
from bandstand.gateway.proxy import Upstream
from bandstand.gateway.routes import RouteTable
from bandstand.platform.asgi import send_json
from bandstand.platform.observability import RequestContextMiddleware, metrics_endpoint
from bandstand.platform.settings import Settings

logger = logging.getLogger("bandstand.gateway")
NAME = "gateway"


class BodyLimitMiddleware:
    """413 for a body over `max_bytes`, by its Content-Length or as it streams in."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for key, value in scope.get("headers", ()):
            if key == b"content-length":
                if not value.isdigit() or int(value) > self.max_bytes:
                    await send_json(send, 413, self._body())
                    return
                break
        received = 0
        exceeded = False
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise _TooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if exceeded and not response_started:
                # Whatever the app makes of the aborted body (a 500 from an in-process
                # service, a 502 from the proxy), the client is told 413.
                return
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not response_started:
            await send_json(send, 413, self._body())

    def _body(self) -> dict[str, object]:
        return {"detail": f"Request body larger than {self.max_bytes} bytes"}


class _TooLarge(Exception):
    pass


class Gateway:
    """Dispatches by path prefix; owns only /health, /ready, /metrics, /docs and /openapi.json."""

    def __init__(self, routes: RouteTable, upstreams: Mapping[str, Upstream]) -> None:
        self.routes = routes
        self.upstreams = dict(upstreams)
        self.own = Starlette(
            routes=[
                Route("/health", self.health),
                Route("/ready", self.ready),
                Route("/metrics", metrics_endpoint),
                Route("/openapi.json", self.openapi),
                Route("/docs", self.docs),
            ]
        )
        self._own_paths = {"/health", "/ready", "/metrics", "/openapi.json", "/docs"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1000})
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        matched = path.rstrip("/") or "/"
        if matched in self._own_paths:
            scope = {**scope, "path": matched}
            await self.own(scope, receive, send)
            return
        service = self.routes.match(matched)
        upstream = self.upstreams.get(service) if service else None
        if upstream is None:
            await send_json(send, 404, {"detail": "Not Found"})
            return
        scope["bandstand_upstream"] = service
        await upstream.handle(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        message = await receive()
        assert message["type"] == "lifespan.startup"
        started: list[Upstream] = []
        try:
            for upstream in self.upstreams.values():
                await upstream.start()
                started.append(upstream)
        except Exception as exc:
            logger.exception("gateway start failed")
            await self._stop(started)
            await send({"type": "lifespan.startup.failed", "message": str(exc)})
            return
        await send({"type": "lifespan.startup.complete"})
        message = await receive()
        assert message["type"] == "lifespan.shutdown"
        await self._stop(started)
        await send({"type": "lifespan.shutdown.complete"})

    async def _stop(self, upstreams: list[Upstream]) -> None:
        for upstream in reversed(upstreams):
            try:
                await upstream.stop()
            except Exception:
                logger.exception("stopping %s failed", upstream.name)

    async def health(self, _request: Request) -> JSONResponse:
        return JSONResponse({"status": "healthy", "service": NAME, "version": __version__})

    async def ready(self, _request: Request) -> JSONResponse:
        names = list(self.upstreams)
        results = await asyncio.gather(*(self.upstreams[name].ready() for name in names))
        services = dict(zip(names, results, strict=True))
        down = [name for name, result in services.items() if result["status"] != "up"]
        body: dict[str, Any] = {
            "status": "not ready" if down else "ready",
            "service": NAME,
            "services": services,
        }
        if down:
            body["detail"] = f"unavailable: {', '.join(down)}"
        return JSONResponse(body, status_code=503 if down else 200)

    async def openapi(self, _request: Request) -> JSONResponse:
        documents = await collect_documents(self.upstreams)
        merged = merge_documents("Bandstand", __version__, documents, self.routes)
        return JSONResponse(merged)

    async def docs(self, _request: Request) -> Response:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="Bandstand API")


def create_gateway_app(
    routes: RouteTable,
    upstreams: Mapping[str, Upstream],
    settings: Settings,
    *,
    access_log: bool = True,
) -> ASGIApp:
    app: ASGIApp = Gateway(routes, upstreams)
    app = BodyLimitMiddleware(app, settings.max_body_bytes)
    if settings.cors_origins:
        app = CORSMiddleware(
            app,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["X-Request-ID", "Location", "Retry-After"],
            allow_credentials=True,
        )
    return RequestContextMiddleware(app, service=NAME, access_log=access_log)
