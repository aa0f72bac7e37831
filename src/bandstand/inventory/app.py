"""Inventory's application: its routers on the platform kernel. It consumes no events."""

from __future__ import annotations

from fastapi import FastAPI

from bandstand.inventory import compat, endpoints
from bandstand.platform.app import create_service_app
from bandstand.platform.runtime import Runtime

NAME = "inventory"
# Public lists: their anonymous GETs may be answered from the platform's short-lived cache.
PUBLIC_LISTS = ("/api/v1/movies", "/api/movies")


def create_app(runtime: Runtime) -> FastAPI:
    return create_service_app(
        NAME,
        [endpoints.router, compat.router],
        runtime,
        description="The streaming catalogue: movies and their genres.",
        public_paths=PUBLIC_LISTS,
    )
