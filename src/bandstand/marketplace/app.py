"""Marketplace's application: its routers on the platform kernel."""

from __future__ import annotations

from fastapi import FastAPI

from bandstand.marketplace import compat, endpoints
from bandstand.marketplace.counting import ListingCounter
from bandstand.marketplace.imports import endpoints as imports
from bandstand.marketplace.listing_index import ListingIndex, index_root
from bandstand.platform.app import create_service_app
from bandstand.platform.runtime import Runtime

NAME = "marketplace"
# Public lists: their anonymous GETs may be answered from the platform's short-lived cache.
PUBLIC_LISTS = (
    "/api/v1/instruments",
    "/api/v1/instruments/categories",
    "/listInstrument",
    "/searchInstrument",
)


def create_app(runtime: Runtime) -> FastAPI:
    app = create_service_app(
        NAME,
        [imports.router, endpoints.router, compat.router],
        runtime,
        description="Instrument listings scraped from second-hand sites: search, filters, import.",
        public_paths=PUBLIC_LISTS,
        on_startup=(_start_index,),
        on_shutdown=(_stop_index,),
    )
    settings = runtime.settings
    app.state.listing_index = ListingIndex(
        app.state.database,
        index_root(settings.data_dir),
        settings.search_index_poll_seconds,
        app.state.write_generation,
    )
    app.state.listing_counter = ListingCounter(
        app.state.write_generation, runtime.settings.list_count_cache_seconds
    )
    return app


async def _start_index(app: FastAPI) -> None:
    await app.state.listing_index.start()


async def _stop_index(app: FastAPI) -> None:
    await app.state.listing_index.stop()
