"""Answering at the ASGI level, for middleware that speaks before (or instead of) an app."""

from __future__ import annotations

import asyncio
import json

from starlette.types import ASGIApp, Message, Receive, Send


def bodiless_request(answered: asyncio.Event | None = None) -> Receive:
    """The `receive` of a request made in-process without a body: one empty `http.request`,
    then `http.disconnect` once `answered` is set (never, without it), like a client that hangs
    up only after its answer."""
    requested = False
    hang_up = answered if answered is not None else asyncio.Event()

    async def receive() -> Message:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await hang_up.wait()
        return {"type": "http.disconnect"}

    return receive


async def send_json(send: Send, status: int, body: dict[str, object]) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class Lifespan:
    """Drives an ASGI app's lifespan protocol as a server would: `startup()`, then
    `shutdown()` (for an app run inside another, or by a test)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Future[None] | None = None

    async def startup(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}}
        self._task = asyncio.ensure_future(self.app(scope, self._to_app.get, self._from_app.put))
        await self._to_app.put({"type": "lifespan.startup"})
        answer = await self._from_app.get()
        if answer["type"] != "lifespan.startup.complete":
            self._task.cancel()
            raise RuntimeError(f"startup failed: {answer.get('message', answer)}")

    async def shutdown(self) -> None:
        await self._to_app.put({"type": "lifespan.shutdown"})
        await self._from_app.get()
        if self._task is not None:
            await self._task
