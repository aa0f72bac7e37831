"""Admin's application: its routes and the audit consumer on the platform kernel."""

from __future__ import annotations

from fastapi import FastAPI

from bandstand.admin import endpoints, events
from bandstand.platform.app import create_service_app
from bandstand.platform.directory import PROBE_TIMEOUT_SECONDS
from bandstand.platform.runtime import Runtime

NAME = "admin"


def create_app(runtime: Runtime) -> FastAPI:
    app = create_service_app(
        NAME,
        [endpoints.router],
        runtime,
        description="The audit log of every event, settings, the dashboard and deep health.",
        subscriptions=[events.SUBSCRIPTION],
    )
    # Seconds each service's /ready has to answer the deep health check.
    app.state.health_probe_timeout = PROBE_TIMEOUT_SECONDS
    return app
