"""Request bodies on their way to an upstream: read whole when small, else streamed."""

from __future__ import annotations

from starlette.types import Receive, Scope

STREAM_CHUNK = 64 * 1024


class ClientGone(Exception):
    """The client went away before its request body was complete."""


def content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            return int(value) if value.isdigit() else None
    return None


async def read_small_body(scope: Scope, receive: Receive, length: int | None) -> bytes | None:
    """The whole body when it is small and its length known; None means stream it."""
    if length is None:
        if scope["method"] in {"GET", "HEAD", "DELETE", "OPTIONS"}:
            return b""
        return None
    if length > STREAM_CHUNK:
        return None
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


class BodyStream:
    """The request body as it streams in; `started` once the upstream request pulled from it
    (until then, a request whose connect failed can be sent elsewhere with it)."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._more = True
        self.started = False

    def __aiter__(self) -> BodyStream:
        return self

    async def __anext__(self) -> bytes:
        self.started = True
        while self._more:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                # Raising aborts the upstream request; ending the stream here would hand the
                # service a truncated body as if it were complete.
                raise ClientGone
            self._more = message.get("more_body", False)
            chunk: bytes = message.get("body", b"")
            if chunk:
                return chunk
        raise StopAsyncIteration
