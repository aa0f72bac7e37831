"""Billing's application: its routers on the platform kernel. The worker is `worker.py`."""

from __future__ import annotations

from fastapi import FastAPI

from bandstand.billing import compat, endpoints, events
from bandstand.billing.intake import OrderIntake
from bandstand.platform.app import create_service_app
from bandstand.platform.runtime import Runtime

NAME = "billing"


def create_app(runtime: Runtime) -> FastAPI:
    app = create_service_app(
        NAME,
        [endpoints.router, compat.router],
        runtime,
        description="Orders: accepted at once (202), billed by the worker from billing_queue.",
        queues=events.QUEUES,
    )
    app.state.order_intake = OrderIntake(app.state.database)
    return app
