"""Draining: a process told to stop (SIGTERM) first tells its load balancers to send it nothing new.

For `drain_seconds` after the signal it still serves every request, but `/ready` answers 503
(Kubernetes and any load balancer that probes it take the replica out), every response closes
its connection (no idle keep-alive connection is left for a client to reuse as the process
goes), and every response carries `x-bandstand-draining` (the gateway takes the replica out of
its rotation at the first one, without waiting for a probe). Then the server stops accepting,
finishes the requests it holds and exits (`cli.server.run_server`).
"""

from __future__ import annotations

import json
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DRAINING_HEADER = b"x-bandstand-draining"
_CLOSING_HEADERS = [(b"connection", b"close"), (DRAINING_HEADER, b"1")]
_READY_BODY = json.dumps(
    {"status": "draining", "detail": "shutting down: send new requests elsewhere"}
).encode()


class Drain:
    """Whether this process is draining, and since when (monotonic seconds)."""

    def __init__(self) -> None:
        self.since: float | None = None

    @property
    def active(self) -> bool:
        return self.since is not None

    def begin(self) -> None:
        if self.since is None:
            self.since = time.monotonic()


class DrainingMiddleware:
    """Outermost ASGI layer: passes everything through untouched until the drain begins."""

    def __init__(self, app: ASGIApp, drain: Drain) -> None:
        self.app = app
        self.drain = drain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.drain.active:
            await self.app(scope, receive, send)
            return
        if scope["path"] == "/ready":
            await _not_ready(send)
            return

        async def closing_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (key, value)
                    for key, value in message.get("headers", ())
                    if key.lower() != b"connection"
                ]
                message = {**message, "headers": [*headers, *_CLOSING_HEADERS]}
            await send(message)

        await self.app(scope, receive, closing_send)


async def _not_ready(send: Send) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(_READY_BODY)).encode()),
        *_CLOSING_HEADERS,
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": _READY_BODY})
