"""Run an ASGI app's lifespan and talk to it with httpx over ASGI, for API tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.types import ASGIApp, Message


@asynccontextmanager
async def lifespan(app: ASGIApp) -> AsyncIterator[None]:
    """Drive the ASGI lifespan protocol of `app` (startup on enter, shutdown on exit)."""
    to_app: asyncio.Queue[Message] = asyncio.Queue()
    from_app: asyncio.Queue[Message] = asyncio.Queue()

    async def receive() -> Message:
        return await to_app.get()

    async def send(message: Message) -> None:
        await from_app.put(message)

    async def run() -> None:
        await app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)

    task = asyncio.create_task(run())
    await to_app.put({"type": "lifespan.startup"})
    started = await from_app.get()
    if started["type"] != "lifespan.startup.complete":
        task.cancel()
        raise RuntimeError(f"startup failed: {started.get('message', started)}")
    try:
        yield
    finally:
        await to_app.put({"type": "lifespan.shutdown"})
        await from_app.get()
        await task


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
