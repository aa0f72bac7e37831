"""Answering at the ASGI level, for middleware that speaks before (or instead of) an app."""

from __future__ import annotations

import asyncio
import json

from starlette.types import Message, Receive, Send


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
