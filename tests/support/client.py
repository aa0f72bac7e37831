"""Run an ASGI app's lifespan and talk to it with httpx over ASGI, for API tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.types import ASGIApp

from bandstand.platform.asgi import Lifespan


@asynccontextmanager
async def lifespan(app: ASGIApp) -> AsyncIterator[None]:
    """Drive the ASGI lifespan protocol of `app` (startup on enter, shutdown on exit)."""
    driver = Lifespan(app)
    await driver.startup()
    try:
        yield
    finally:
        await driver.shutdown()


@asynccontextmanager
async def api_client(
    app: ASGIApp,
    *,
    client: tuple[str, int] = ("203.0.113.10", 50000),
    raise_app_exceptions: bool = True,
    **kwargs: Any,
) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client bound to `app` with its lifespan running.

    With `raise_app_exceptions=False` an unhandled error shows as the 500 a client would see."""
    transport = httpx.ASGITransport(
        app=app, client=client, raise_app_exceptions=raise_app_exceptions
    )
    async with (
        lifespan(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver", **kwargs) as http,
    ):
        yield http
