"""uvicorn's httptools protocol, sending a response's head and its body in one write.

uvicorn writes the head when the app sends `http.response.start` and the body when it sends
`http.response.body`: two system calls and two TCP segments for every small response, each
write on loopback paying for the whole delivery to the peer. Here a write is held until the
next one (sent together) or until the response is complete, or at the latest until the end of
the event loop's current iteration, so a streaming response's head still leaves at once.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class CoalescingTransport:
    """Forwards to `transport`, holding back one write until the next write, `flush()`, or
    the end of the loop's current iteration."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self._loop = loop
        self._held: bytes | None = None
        self._flush_scheduled = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        held = self._held
        if held is None:
            self._held = bytes(data)
            if not self._flush_scheduled:
                self._flush_scheduled = True
                self._loop.call_soon(self._scheduled_flush)
            return
        self._held = None
        self.transport.write(held + data)

    def flush(self) -> None:
        held, self._held = self._held, None
        if held and not self.transport.is_closing():
            self.transport.write(held)

    def _scheduled_flush(self) -> None:
        self._flush_scheduled = False
        self.flush()

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def abort(self) -> None:
        self._held = None
        self.transport.abort()

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """Each request's cycle writes through one `CoalescingTransport` per connection; the
    protocol's own writes (a 400, closing an idle connection) go straight to the socket."""

    _coalescing: CoalescingTransport | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._coalescing = CoalescingTransport(transport, self.loop)

    def on_headers_complete(self) -> None:
        previous = self.cycle
        super().on_headers_complete()
        if self.cycle is not previous and self._coalescing is not None:
            self.cycle.transport = self._coalescing  # type: ignore[assignment]

    def on_response_complete(self) -> None:
        # The whole response is written before the connection takes its next request (or is
        # closed by a shutdown that finds no response in progress).
        if self._coalescing is not None:
            self._coalescing.flush()
        super().on_response_complete()
