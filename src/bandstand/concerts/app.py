"""Concerts's application: its routers and event subscriptions on the platform kernel."""

from __future__ import annotations

from fastapi import FastAPI

from bandstand.concerts import endpoints, events
from bandstand.platform.app import create_service_app
from bandstand.platform.runtime import Runtime

NAME = "concerts"


def create_app(runtime: Runtime) -> FastAPI:
    return create_service_app(
        NAME,
        [endpoints.router],
        runtime,
        description="The concert calendar and who attends what.",
        subscriptions=[events.SUBSCRIPTION],
    )
