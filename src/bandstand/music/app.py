"""Music's application: its routers and event subscriptions on the platform kernel."""

from __future__ import annotations

from fastapi import FastAPI

from bandstand.music import compat, endpoints, events
from bandstand.platform.app import create_service_app
from bandstand.platform.runtime import Runtime

NAME = "music"
# Public lists: their anonymous GETs may be answered from the platform's short-lived cache.
PUBLIC_LISTS = (
    "/api/v1/songs",
    "/api/v1/songs/facets",
    "/api/v1/albums",
    "/api/v1/pictures",
    "/songs",
    "/albums",
    "/song",
    "/picture",
)


def create_app(runtime: Runtime) -> FastAPI:
    return create_service_app(
        NAME,
        [*endpoints.routers, *compat.routers],
        runtime,
        description="Songs, albums and their tracks, likes, and event pictures.",
        subscriptions=events.SUBSCRIPTIONS,
        public_paths=PUBLIC_LISTS,
    )
