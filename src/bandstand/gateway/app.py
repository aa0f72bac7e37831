"""The gateway application: edge middleware, its own endpoints, and dispatch to upstreams."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bandstand import __version__
from bandstand.gateway.docs import collect_documents, merge_documents
from bandstand.gateway.routes import RouteTable
from bandstand.gateway.upstream import Upstream
from bandstand.platform.api_docs import docs_routes, is_asset_path
from bandstand.platform.asgi import send_json
from bandstand.platform.clients import ForwardedClientMiddleware
from bandstand.platform.errors import BandstandError
from bandstand.platform.observability import RequestContextMiddleware, metrics_endpoint
from bandstand.platform.security import Principal
from bandstand.platform.settings import Settings

logger = logging.getLogger("bandstand.gateway")
NAME = "gateway"
# Checks an access token (identity's verification, as every service does it).
Verify = Callable[[str], Awaitable[Principal]]
Hook = Callable[[], Awaitable[None]]


class BodyLimitMiddleware:
    """413 for a body over `max_bytes`, by its Content-Length or as it streams in."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunked = False
        for key, value in scope.get("headers", ()):
            if key == b"content-length":
                if not value.isdigit() or int(value) > self.max_bytes:
                    await send_json(send, 413, self._body())
                    return
            elif key == b"transfer-encoding":
                chunked = True
        if not chunked:
            # Framed by its Content-Length (checked above), or with none at all, the body the
            # server delivers cannot be larger: nothing to count.
            await self.app(scope, receive, send)
            return
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
    """Dispatches by path prefix; owns only /health, /ready, /metrics, /openapi.json, /docs and
    the files of /docs/assets/.

    `/metrics` and the detail of `/ready` (which service and check is down, and why) are for
    admins, unless `public_metrics`: anyone else gets 401/403 from `/metrics`, and from `/ready`
    its status alone (200 or 503), which is all an orchestrator's probe reads."""

    def __init__(
        self,
        routes: RouteTable,
        upstreams: Mapping[str, Upstream],
        *,
        verify: Verify | None = None,
        public_metrics: bool = False,
        on_shutdown: Sequence[Hook] = (),
    ) -> None:
        self.routes = routes
        self.upstreams = dict(upstreams)
        self.verify = verify
        self.public_metrics = public_metrics
        self.on_shutdown = list(on_shutdown)
        self.own = Starlette(
            routes=[
                Route("/health", self.health),
                Route("/ready", self.ready),
                Route("/metrics", self.metrics),
                Route("/openapi.json", self.openapi),
                *docs_routes("/openapi.json", "Bandstand API"),
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
        if matched in self._own_paths or is_asset_path(matched):
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
        for hook in self.on_shutdown:
            try:
                await hook()
            except Exception:
                logger.exception("gateway shutdown hook failed")

    async def _caller(self, request: Request) -> Principal | None:
        """The verified caller of a request with a bearer token; None for anyone else."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if self.verify is None or scheme.lower() != "bearer" or not token.strip():
            return None
        try:
            return await self.verify(token.strip())
        except BandstandError:
            return None

    async def _admin_only(self, request: Request) -> JSONResponse | None:
        """None when the request may see operational detail; otherwise the refusal."""
        if self.public_metrics:
            return None
        caller = await self._caller(request)
        if caller is None:
            return JSONResponse(
                {"detail": "Not authenticated"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not caller.is_admin:
            return JSONResponse({"detail": "Insufficient permissions"}, status_code=403)
        return None

    async def metrics(self, request: Request) -> Response:
        refused = await self._admin_only(request)
        return refused or await metrics_endpoint(request)

    async def health(self, _request: Request) -> JSONResponse:
        return JSONResponse({"status": "healthy", "service": NAME, "version": __version__})

    async def ready(self, request: Request) -> JSONResponse:
        names = list(self.upstreams)
        refused = await self._admin_only(request)
        authorization = None if refused else request.headers.get("authorization")
        results = await asyncio.gather(
            *(self.upstreams[name].ready(authorization) for name in names)
        )
        services = dict(zip(names, results, strict=True))
        down = [name for name, result in services.items() if result["status"] != "up"]
        if refused is not None:
            # Which dependency failed, and its error's text, are for admins only.
            status = "not ready" if down else "ready"
            return JSONResponse({"status": status}, status_code=503 if down else 200)
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


def create_gateway_app(
    routes: RouteTable,
    upstreams: Mapping[str, Upstream],
    settings: Settings,
    *,
    access_log: bool = True,
    verify: Verify | None = None,
    on_shutdown: Sequence[Hook] = (),
) -> ASGIApp:
    """The gateway; `verify` checks an admin's token for `/metrics` and `/ready`'s detail."""
    app: ASGIApp = Gateway(
        routes,
        upstreams,
        verify=verify,
        public_metrics=settings.metrics_public,
        on_shutdown=on_shutdown,
    )
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
    app = RequestContextMiddleware(app, service=NAME, access_log=access_log)
    return ForwardedClientMiddleware(app, settings.trusted_proxies)
