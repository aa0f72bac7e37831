"""Concerts's application: its routers and event subscriptions on the platform kernel."""

from __future__ import annotations

from fastapi import FastAPI

from bandstand.concerts import endpoints, events
from bandstand.platform.app import create_service_app
from bandstand.platform.runtime import Runtime

NAME = "concerts"
# The public list: its anonymous GETs may be answered from the platform's short-lived cache.
PUBLIC_LISTS = ("/api/v1/concerts",)


def create_app(runtime: Runtime) -> FastAPI:
    return create_service_app(
        NAME,
        [endpoints.router],
        runtime,
        description="The concert calendar and who attends what.",
        subscriptions=[events.SUBSCRIPTION],
        public_paths=PUBLIC_LISTS,
    )
