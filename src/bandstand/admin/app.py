"""Admin's application: its routes and the audit consumer on the platform kernel."""

from __future__ import annotations

from fastapi import FastAPI

from bandstand.admin import endpoints, events
from bandstand.admin.models import AuditEntry
from bandstand.platform.app import create_service_app
from bandstand.platform.directory import PROBE_TIMEOUT_SECONDS
from bandstand.platform.retention import RetentionRule
from bandstand.platform.runtime import Runtime

NAME = "admin"
AUDIT_LOG = AuditEntry.metadata.tables[AuditEntry.__tablename__]


def create_app(runtime: Runtime) -> FastAPI:
    app = create_service_app(
        NAME,
        [endpoints.router],
        runtime,
        description="The audit log of every event, settings, the dashboard and deep health.",
        subscriptions=[events.SUBSCRIPTION],
        retention=[
            RetentionRule(AUDIT_LOG, AUDIT_LOG.c.occurred_at, runtime.settings.retention_audit_days)
        ],
    )
    # Seconds each service's /ready has to answer the deep health check.
    app.state.health_probe_timeout = PROBE_TIMEOUT_SECONDS
    return app
