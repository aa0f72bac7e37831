"""Limits on a request body, enforced by every service before any route reads it.

A body over `max_bytes` answers 413, by its Content-Length before it is read, or as soon as a
chunked body passes the limit. A body whose brackets nest deeper than `MAX_NESTING` answers 400:
Python's parsers recurse once per level, and a body of 100,000 `[` would otherwise end as a
`RecursionError` in whichever parser a route uses. The body is read whole before the route runs
(it is at most `max_bytes`, and every route reads its body whole anyway), so a refused body never
reaches a parser: reading it raises an HTTP 400 instead, which the route's own error handling
renders (with the inherited error key of a compatibility route).
"""

from __future__ import annotations

import re

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bandstand.platform.asgi import send_json

# Far deeper than any document of this API, far shallower than the recursion limit.
MAX_NESTING = 200
_STRUCTURE = re.compile(rb'[\[\]{}"\\]')


class NestingMeter:
    """The bracket depth of a JSON text fed in pieces; brackets inside strings do not count.

    Bytes are only scanned once the body holds more opening brackets than the limit: below
    that, no nesting can pass it, and a typical body costs two `bytes.count` calls."""

    def __init__(self, limit: int = MAX_NESTING) -> None:
        self.limit = limit
        self._opened = 0
        self._pending: list[bytes] | None = []
        self._depth = 0
        self._in_string = False
        self._escaped = False

    def feed(self, chunk: bytes) -> bool:
        """Take the next piece; True once the nesting has gone past the limit."""
        if self._pending is not None:
            self._opened += chunk.count(b"[") + chunk.count(b"{")
            self._pending.append(chunk)
            if self._opened <= self.limit:
                return False
            pending, self._pending = self._pending, None
            return any(self._scan(piece) for piece in pending)
        return self._scan(chunk)

    def _scan(self, chunk: bytes) -> bool:
        skip_to = 0
        if self._escaped and chunk:
            self._escaped = False
            skip_to = 1
        for match in _STRUCTURE.finditer(chunk, skip_to):
            position = match.start()
            if position < skip_to:
                continue
            char = chunk[position]
            if self._in_string:
                if char == 0x5C:  # backslash: the next byte is escaped, maybe in the next piece
                    skip_to = position + 2
                    self._escaped = skip_to > len(chunk)
                elif char == 0x22:
                    self._in_string = False
            elif char == 0x22:
                self._in_string = True
            elif char in (0x5B, 0x7B):
                self._depth += 1
                if self._depth > self.limit:
                    return True
            elif char in (0x5D, 0x7D) and self._depth > 0:
                self._depth -= 1
        return False


class RequestBodyLimits:
    """413 for a body over `max_bytes`, 400 for one nested deeper than `max_nesting`."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_nesting: int = MAX_NESTING) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_nesting = max_nesting

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        length = _content_length(scope)
        if length is not None and (length < 0 or length > self.max_bytes):
            await send_json(send, 413, self._too_large())
            return
        chunks: list[bytes] = []
        received = 0
        meter = NestingMeter(self.max_nesting) if _may_be_json(scope) else None
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client left: nothing to answer
                return
            chunk: bytes = message.get("body", b"")
            more = message.get("more_body", False)
            received += len(chunk)
            if received > self.max_bytes:
                await send_json(send, 413, self._too_large())
                return
            if meter is not None and meter.feed(chunk):
                detail = f"Request body nested deeper than {self.max_nesting} levels"
                await self.app(scope, _refuse(detail), send)
                return
            chunks.append(chunk)
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    def _too_large(self) -> dict[str, object]:
        return {"detail": f"Request body larger than {self.max_bytes} bytes"}


def _has_body(scope: Scope) -> bool:
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            return bool(value != b"0")
        if key == b"transfer-encoding":
            return True
    return False


# Bodies that no route parses as JSON: a CSV upload may hold unbalanced brackets in its text.
_NOT_JSON = (b"text/csv", b"text/plain", b"multipart/form-data")


def _may_be_json(scope: Scope) -> bool:
    """Every body is measured unless it says it is another format (inherited routes parse JSON
    whatever the content type says, so a missing or unusual type is measured too)."""
    for key, value in scope.get("headers", ()):
        if key == b"content-type":
            return not value.lower().startswith(_NOT_JSON)
    return True


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            return int(value) if value.isdigit() else -1
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, as one message; then the client's own `receive` (disconnect)."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _refuse(detail: str) -> Receive:
    """A body no route may read: reading it is a 400 with `detail`."""

    async def refuse() -> Message:
        raise HTTPException(400, detail)

    return refuse
