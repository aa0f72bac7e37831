"""`create_service_app`: everything a service needs around its routers, wired in one place."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.telemetry import TelemetryConfig
from starlette.types import ASGIApp, Receive, Scope, Send

from bandstand import __version__
from bandstand.platform.api_docs import docs_routes
from bandstand.platform.clients import ForwardedClientMiddleware
from bandstand.platform.database import Database
from bandstand.platform.errors import ERROR_RESPONSES, install_error_handlers
from bandstand.platform.flat_routes import add_routes
from bandstand.platform.health import ReadinessCheck, health_router
from bandstand.platform.list_counts import ListCounts
from bandstand.platform.messaging.outbox import count_pending
from bandstand.platform.messaging.queues import Queues, declare_queues
from bandstand.platform.messaging.relay import OutboxRelay
from bandstand.platform.messaging.subscriptions import Subscribing, SubscriptionRunner
from bandstand.platform.observability import (
    OUTBOX_PENDING,
    RequestContextMiddleware,
    metrics_endpoint,
)
from bandstand.platform.request_body import RequestBodyLimits
from bandstand.platform.response_cache import BackgroundRefreshes, PublicResponseCache
from bandstand.platform.retention import RetentionJob, RetentionRule, kernel_rules
from bandstand.platform.runtime import Runtime
from bandstand.platform.text_index_upkeep import TextIndexUpkeep
from bandstand.platform.transactions import TransactionMiddleware
from bandstand.platform.write_generation import write_generation

LifecycleHook = Callable[[FastAPI], Awaitable[None]]
# FastAPI's own OpenTelemetry instrumentation, off: the platform's metrics are Prometheus'
# (`platform.observability`), and the instrumentation looks up the global providers on every
# request even when none is configured (about 3% of a signed-in song page's CPU).
NO_NATIVE_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


class TrailingSlashMiddleware:
    """Serve `/path/` exactly like `/path` (no redirect), as every inherited contract expects."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            strip_trailing_slash(scope)
        await self.app(scope, receive, send)


def strip_trailing_slash(scope: Scope) -> None:
    path: str = scope["path"]
    if len(path) > 1 and path.endswith("/"):
        scope["path"] = path.rstrip("/") or "/"
        raw = scope.get("raw_path")
        if raw:
            scope["raw_path"] = raw.rstrip(b"/") or b"/"


def create_service_app(
    name: str,
    routers: Sequence[APIRouter],
    runtime: Runtime,
    *,
    description: str = "",
    version: str = __version__,
    on_startup: Sequence[LifecycleHook] = (),
    on_shutdown: Sequence[LifecycleHook] = (),
    subscriptions: Sequence[Subscribing] = (),
    public_paths: Sequence[str] = (),
    queues: Queues | None = None,
    retention: Sequence[RetentionRule] = (),
) -> FastAPI:
    """A service app on the kernel.

    `public_paths`: public lists whose anonymous GETs may be answered from the shared cache for
    `settings.public_cache_seconds` (see `platform.response_cache`).
    `queues`: durable queues (name → routing-key patterns) that must exist before this service
    publishes, so that its events reach them even while their consumer has never run; the relay
    declares them before publishing and again after the broker was lost.
    `retention`: the service's own tables to prune, besides the kernel's (`platform.retention`)."""
    settings = runtime.settings
    database = Database(settings.database_url(name), pool_size=settings.database_pool_size)
    relay = OutboxRelay(
        database,
        runtime.broker,
        poll_seconds=settings.outbox_poll_seconds,
        linger=settings.outbox_linger_seconds,
        prepare=declare_queues(runtime.broker, queues) if queues else None,
    )
    subscriber = SubscriptionRunner(database, runtime.broker, subscriptions)
    refreshes = BackgroundRefreshes()
    generation = write_generation(settings, runtime.cache, name)
    generation.follow(database)
    pruning = RetentionJob(
        name,
        database,
        [*kernel_rules(settings), *retention],
        interval_seconds=settings.retention_interval_seconds,
        batch_size=settings.retention_batch_size,
    )
    upkeep = TextIndexUpkeep(name, database, settings.text_index_upkeep_seconds)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        relay.start()
        subscriber.start()
        pruning.start()
        upkeep.start()
        try:
            for hook in on_startup:
                await hook(app)
            yield
        finally:
            for hook in on_shutdown:
                await hook(app)
            await upkeep.stop()
            await pruning.stop()
            await refreshes.stop()
            await subscriber.stop()
            await relay.stop()
            await database.dispose()
            await runtime.stop()

    app = FastAPI(
        title=f"Bandstand {name}",
        description=description,
        version=version,
        lifespan=lifespan,
        redirect_slashes=False,
        docs_url=None,  # FastAPI's page loads Swagger UI from a CDN; `api_docs` ships it
        redoc_url=None,  # ReDoc too, and is not shipped: `/docs` is the one documentation page
        telemetry=NO_NATIVE_TELEMETRY,
    )
    app.state.service_name = name
    app.state.runtime = runtime
    app.state.database = database
    app.state.write_generation = generation
    app.state.list_counts = ListCounts(generation, settings.list_count_cache_seconds)
    app.state.outbox_relay = relay
    app.state.subscriptions = subscriber
    app.state.retention = pruning
    app.state.text_index_upkeep = upkeep
    readiness: dict[str, ReadinessCheck] = {
        "database": database.ping,
        "broker": runtime.broker.ping,
        "cache": runtime.ping_cache,
    }
    app.state.readiness_checks = readiness

    install_error_handlers(app)
    add_routes(app, health_router(name, version))

    async def metrics(request: Request) -> Response:
        with contextlib.suppress(Exception):  # a database that is down must not hide metrics
            OUTBOX_PENDING.labels(name).set(await count_pending(database))
        return await metrics_endpoint(request)

    app.add_route("/metrics", metrics, include_in_schema=False)
    app.router.routes.extend(docs_routes(app.openapi_url or "/openapi.json", app.title))
    for router in routers:
        add_routes(app, router, responses=ERROR_RESPONSES)

    app.add_middleware(TransactionMiddleware)
    if public_paths:
        app.add_middleware(
            PublicResponseCache,
            cache=runtime.cache,
            service=name,
            paths=public_paths,
            ttl=settings.public_cache_seconds,
            refreshes=refreshes,
            generation=generation,
        )
    app.add_middleware(RequestBodyLimits, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware, service=name, access_log=settings.access_log)
    app.add_middleware(TrailingSlashMiddleware)
    app.add_middleware(ForwardedClientMiddleware, trusted=settings.trusted_proxies)
    return app
