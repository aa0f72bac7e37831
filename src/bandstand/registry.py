"""The composition root: the one module that names every service.

Adding a service is a new package (its migrations in its `migrations/` folder) and one entry
here: its app factory, the path prefixes the gateway routes to it (canonical and inherited), its
default port, the event queues it consumes, its worker processes and its commands. The CLI and
`bandstand up` iterate these entries and name no service themselves.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bandstand import __version__
from bandstand.gateway.routes import RouteTable

# What builds apps and gateways (FastAPI, the runtime, the HTTP client) is imported by the
# functions that build them: a worker or a command, which builds none, starts without it.
if TYPE_CHECKING:
    import asyncio
    from collections.abc import Awaitable

    import typer
    from fastapi import FastAPI
    from sqlalchemy.ext.asyncio import AsyncSession
    from starlette.types import ASGIApp

    from bandstand.gateway.upstream import Upstream
    from bandstand.platform.runtime import Runtime
    from bandstand.platform.settings import Settings
    from bandstand.platform.supervisor import Supervisor

    Progress = Callable[[int], None]
    # Loads a service's demo data in the session's transaction; returns the rows it created
    # (none when they are all there already) and calls `progress(n)` as it advances by n records.
    DemoSeed = Callable[[AsyncSession, Progress | None], Awaitable[int]]
    # A worker process's main coroutine: it runs until the event is set, then stops gracefully.
    WorkerMain = Callable[[Settings, asyncio.Event], Awaitable[None]]
    # A command of the `bandstand` CLI: a function (mounted under its name) or a group of them.
    Command = typer.Typer | Callable[..., None]

SRC = Path(__file__).parent


def _load(target: str) -> Any:
    """The object a `module:attribute` target names, importing its module now."""
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


@dataclass(frozen=True)
class ServiceEntry:
    """A service, named by where its parts live rather than by the parts themselves: its modules
    are imported when a part is first asked for, so a process serving one service (a replica, a
    worker, a command) never imports the others."""

    name: str
    prefixes: tuple[str, ...]
    default_port: int
    has_demo: bool = False
    """It loads demo data: `seed_demo` in its package's `demo` module."""
    workers: Mapping[str, str] = field(default_factory=dict)
    """Worker processes by name (`bandstand worker NAME`; children of `bandstand up`), each the
    `module:function` of its main coroutine."""
    consumers: tuple[str, ...] = ()
    """The durable queues of the event subscriptions the service's app consumes: they run in
    its web process, started and stopped with the app (`create_service_app(subscriptions=)`)."""
    commands: Sequence[str] = ()
    """Its commands of the `bandstand` CLI (`bandstand createsuperuser`, `bandstand import`), each
    the `module:attribute` of a function or a group of commands."""
    exact_paths: tuple[str, ...] = ()
    """Paths routed to it as themselves only, not as prefixes (the web's home page, `/`)."""
    has_database: bool = True
    """False for a service that owns no table (the web keeps only sessions, in the cache)."""
    calls_platform: bool = False
    """It is a client of the other services' APIs (the web): the composition root hands it
    the platform's API as an ASGI app (`web.app.bind_platform`)."""

    def create_app(self, runtime: Runtime) -> FastAPI:
        """Its app: `create_app` in its package's `app` module."""
        factory: Callable[[Runtime], FastAPI] = _load(f"bandstand.{self.name}.app:create_app")
        return factory(runtime)

    @property
    def seed_demo(self) -> DemoSeed | None:
        if not self.has_demo:
            return None
        seed: DemoSeed = _load(f"bandstand.{self.name}.demo:seed_demo")
        return seed

    def worker_main(self, name: str) -> WorkerMain:
        main: WorkerMain = _load(self.workers[name])
        return main

    def loaded_commands(self) -> list[Command]:
        return [_load(target) for target in self.commands]

    @property
    def migrations(self) -> Path:
        """Its Alembic scripts: every service keeps them in its package's `migrations/`."""
        return SRC / self.name / "migrations"


SERVICES: tuple[ServiceEntry, ...] = (
    ServiceEntry(
        name="identity",
        prefixes=(
            "/api/v1/register",
            "/api/v1/login",
            "/api/v1/token",
            "/api/v1/logout",
            "/api/v1/profile",
            "/api/v1/users",
            "/.well-known/jwks.json",
            "/auth",
            "/users",
        ),
        default_port=8001,
        commands=("bandstand.identity.cli:createsuperuser",),
    ),
    ServiceEntry(
        name="music",
        prefixes=(
            "/api/v1/songs",
            "/api/v1/albums",
            "/api/v1/pictures",
            "/api/v1/me/likes",
            "/songs",
            "/albums",
            "/song",
            "/picture",
            "/count",
        ),
        default_port=8002,
        has_demo=True,
        consumers=("music.identity-events",),
    ),
    ServiceEntry(
        name="concerts",
        prefixes=("/api/v1/concerts", "/api/v1/me/concerts"),
        default_port=8003,
        has_demo=True,
        consumers=("concerts.identity-events",),
    ),
    ServiceEntry(
        name="inventory",
        prefixes=("/api/v1/movies", "/api/movies"),
        default_port=8005,
        has_demo=True,
    ),
    ServiceEntry(
        name="academy",
        prefixes=("/api/v1/courses", "/api/v1/enroll", "/api/v1/progress", "/api/v1/analytics"),
        default_port=8007,
        has_demo=True,
        consumers=("academy.identity-events",),
    ),
    ServiceEntry(
        name="marketplace",
        prefixes=("/api/v1/instruments", "/listInstrument", "/searchInstrument", "/addInstrument"),
        default_port=8004,
        has_demo=True,
        commands=("bandstand.marketplace.cli:import_app", "bandstand.marketplace.cli:index_app"),
    ),
    ServiceEntry(
        name="billing",
        prefixes=("/api/v1/billing", "/api/billing"),
        default_port=8006,
        workers={"billing": "bandstand.billing.worker:run_worker"},
    ),
    ServiceEntry(
        name="admin",
        prefixes=(
            "/api/v1/logs",
            "/api/v1/settings",
            "/api/v1/dashboard",
            "/api/v1/health-check",
        ),
        default_port=8008,
        consumers=("admin.audit",),
    ),
    ServiceEntry(
        name="web",
        prefixes=(
            "/static",
            "/media",
            "/signup",
            "/login",
            "/logout",
            "/account",
            "/music",
            "/photos",
            "/concerts",
            "/instruments",
            "/movies",
            "/orders",
            "/courses",
            "/teaching",
            "/admin",
        ),
        exact_paths=("/",),
        default_port=8009,
        has_database=False,
        calls_platform=True,
    ),
)
GATEWAY_PORT = 8080
JWKS_SERVICE = "identity"
"""The service whose JWKS the others verify tokens with (`/.well-known/jwks.json`)."""


def names() -> list[str]:
    return [entry.name for entry in SERVICES]


def with_database() -> list[str]:
    """The services that own tables (and so migrations)."""
    return [entry.name for entry in SERVICES if entry.has_database]


def service(name: str) -> ServiceEntry:
    for entry in SERVICES:
        if entry.name == name:
            return entry
    raise KeyError(f"unknown service {name!r}; known: {', '.join(names())}")


def worker_names() -> list[str]:
    return [name for entry in SERVICES for name in entry.workers]


def worker(name: str) -> tuple[ServiceEntry, WorkerMain]:
    """The service a worker belongs to, and its main coroutine."""
    for entry in SERVICES:
        if name in entry.workers:
            return entry, entry.worker_main(name)
    raise KeyError(f"unknown worker {name!r}; known: {', '.join(worker_names())}")


def consumer_names() -> list[str]:
    return [queue for entry in SERVICES for queue in entry.consumers]


def commands() -> list[Command]:
    """Every service's CLI commands, in registry order."""
    return [command for entry in SERVICES for command in entry.loaded_commands()]


def with_demo_data() -> list[ServiceEntry]:
    return [entry for entry in SERVICES if entry.has_demo]


def route_table() -> RouteTable:
    return RouteTable(
        ((prefix, entry.name) for entry in SERVICES for prefix in entry.prefixes),
        exact=((path, entry.name) for entry in SERVICES for path in entry.exact_paths),
    )


def merged_openapi(documents: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """The gateway's OpenAPI document from each service's (the document `/openapi.json` serves)."""
    from bandstand.gateway.docs import merge_documents

    return merge_documents("Bandstand", __version__, documents, route_table())


def embedded_gateway(runtime: Runtime, workers: Supervisor | None = None) -> ASGIApp:
    """Every service in this process behind the gateway: no network hop between them.

    With `workers` (the children of `bandstand up`), a worker that is down or keeps failing makes
    the readiness of its service answer 503 naming it (`worker:NAME`)."""
    from bandstand.gateway.app import create_gateway_app
    from bandstand.gateway.upstream import InProcessUpstream
    from bandstand.platform.directory import asgi_probe

    upstreams: dict[str, Upstream] = {}
    clients: list[FastAPI] = []
    for entry in SERVICES:
        app = entry.create_app(runtime)
        if entry.calls_platform:
            clients.append(app)
        for name in entry.workers:
            if workers is not None and name in workers.names():
                app.state.readiness_checks[f"worker:{name}"] = workers.readiness_check(name)
        upstreams[entry.name] = InProcessUpstream(entry.name, app)
        runtime.services.register(entry.name, asgi_probe(app))
    gateway = create_gateway_app(
        route_table(),
        upstreams,
        runtime.settings,
        access_log=False,
        # Looked up per call: identity, mounted here, points the runtime at its own keys.
        verify=lambda token: runtime.verifier.verify(token),
    )
    for app in clients:
        _bind_platform(app, gateway, run_lifespan=False)
    return gateway


def distributed_service_app(entry: ServiceEntry, settings: Settings) -> FastAPI:
    """One service's app run alone; a client of the platform's API reaches the others through
    a gateway of its own, proxying to their URLs (no extra hop through the shared gateway)."""
    app = entry.create_app(distributed_runtime(settings))
    if entry.calls_platform:
        _bind_platform(app, distributed_gateway(settings), run_lifespan=True)
    return app


def _bind_platform(app: FastAPI, platform: ASGIApp, *, run_lifespan: bool) -> None:
    """Hand a client of the platform's API (the web) the platform to call."""
    bind: Callable[..., None] = _load("bandstand.web.app:bind_platform")
    bind(app, platform, run_lifespan=run_lifespan)


def distributed_runtime(settings: Settings) -> Runtime:
    """The runtime of one service run alone: the other services are reached over HTTP."""
    from bandstand.platform.directory import replicas_probe
    from bandstand.platform.runtime import Runtime

    runtime = Runtime(settings)
    for entry in SERVICES:
        urls = settings.service_replicas(entry.name) or [_default_url(entry)]
        runtime.services.register(entry.name, replicas_probe(urls))
    return runtime


def _default_url(entry: ServiceEntry) -> str:
    return f"http://127.0.0.1:{entry.default_port}"


def distributed_gateway(settings: Settings) -> ASGIApp:
    """The gateway alone, proxying to each service's URL from settings."""
    from bandstand.gateway.app import create_gateway_app
    from bandstand.gateway.proxy import HttpUpstream
    from bandstand.platform.runtime import Runtime

    upstreams: dict[str, Upstream] = {}
    for entry in SERVICES:
        upstreams[entry.name] = HttpUpstream(
            entry.name,
            settings.service_replicas(entry.name) or [_default_url(entry)],
            connect_timeout=settings.upstream_connect_timeout,
            read_timeout=settings.upstream_read_timeout,
            pool_size=settings.upstream_pool_size,
        )
    # Only to check an admin's token for /metrics and /ready: never started, no broker used.
    runtime = Runtime(settings)
    return create_gateway_app(
        route_table(),
        upstreams,
        settings,
        access_log=settings.access_log,
        verify=runtime.verifier.verify,
        on_shutdown=[runtime.cache.close],
    )
