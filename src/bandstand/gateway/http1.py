"""A lean HTTP/1.1 client for the proxy's common case: a plain-HTTP upstream, a request whose
body is in hand (or absent), any response (streamed back as it arrives).

aiohttp's general client spends more of a proxied request's CPU than the rest of the gateway;
this one writes the request in one call and parses the response with httptools. It raises
aiohttp's exceptions, so the proxy's retry and error rules read its failures as aiohttp's:
`ConnectFailed` (a `ClientOSError`) when no connection was made, `ServerDisconnectedError` when
a connection closed before its response was complete, `ConnectionTimeoutError` /
`SocketTimeoutError` when the connect or a read took too long.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import cast

import aiohttp
import httptools

# Reading from the upstream pauses while this much of its body waits to be relayed.
HIGH_WATER = 256 * 1024
IDLE_SECONDS = 30.0  # an idle pooled connection older than this is closed, not reused


class ConnectFailed(aiohttp.ClientOSError):
    """No connection to the upstream could be made: nothing of the request reached it."""


class Response:
    """The status and headers of an upstream's response; its body comes from `chunks()`."""

    def __init__(self, connection: Connection, status: int, headers: list[tuple[bytes, bytes]]):
        self._connection = connection
        self.status = status
        self.raw_headers = headers
        self.content_length: int | None = None
        for key, value in headers:
            if key.lower() == b"content-length" and value.isdigit():
                self.content_length = int(value)

    async def chunks(self) -> AsyncIterator[bytes]:
        while True:
            chunk = await self._connection.next_chunk()
            if chunk is None:
                return
            yield chunk

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self.chunks()])


class Connection(asyncio.Protocol):
    """One keep-alive connection; one request at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop, read_timeout: float) -> None:
        self._loop = loop
        self._read_timeout = read_timeout
        self._parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.lost = False
        self.idle_since = 0.0
        self._begin()

    def _begin(self) -> None:
        self._headers: list[tuple[bytes, bytes]] = []
        self._head: Response | None = None
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._complete = False
        self._keep_alive = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._paused = False
        self._framed = True

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(aiohttp.ClientPayloadError(f"invalid response from upstream: {exc}"))
            self._close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self._head is not None and not self._framed and exc is None:
            self._complete = True  # a body without length or chunks ends with the connection
        if not self._complete and self._error is None:
            self._fail(aiohttp.ServerDisconnectedError())
        self._wake()

    # httptools callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if status < 200:
            self._headers = []  # an interim response: the final one follows
            return
        self._head = head = Response(self, status, self._headers)
        self._framed = head.content_length is not None or any(
            key.lower() == b"transfer-encoding" for key, _ in head.raw_headers
        )
        self._wake()

    def on_body(self, body: bytes) -> None:
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > HIGH_WATER and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self._head is None:
            return  # the end of an interim response
        self._keep_alive = self._parser.should_keep_alive()
        self._complete = True
        self._wake()

    # the request

    def send(self, head: bytes, body: bytes | None) -> None:
        assert self.transport is not None
        self._begin()
        self.transport.write(head + body if body else head)

    async def response(self) -> Response:
        while self._head is None:
            if self._error is not None:
                raise self._error
            await self._wait()
        return self._head

    async def next_chunk(self) -> bytes | None:
        while True:
            if self._chunks:
                chunk = self._chunks.popleft()
                self._buffered -= len(chunk)
                if self._paused and self._buffered <= HIGH_WATER // 4:
                    self._paused = False
                    if self.transport is not None:
                        self.transport.resume_reading()
                return chunk
            if self._complete:
                return None
            if self._error is not None:
                raise self._error
            await self._wait()

    @property
    def reusable(self) -> bool:
        """Done with its response and fit for the next request (not one whose body was left
        unread with reading paused)."""
        return (
            self._complete
            and not self.lost
            and self._error is None
            and self._keep_alive
            and not self._paused
        )

    async def _wait(self) -> None:
        waiter = self._waiter = self._loop.create_future()
        timer = self._loop.call_later(self._read_timeout, self._timed_out, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None

    def _timed_out(self, waiter: asyncio.Future[None]) -> None:
        if not waiter.done():
            waiter.set_exception(aiohttp.SocketTimeoutError("Timeout on reading data from socket"))

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _fail(self, error: BaseException) -> None:
        self._error = error
        self._wake()

    def _close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


class Http1Pool:
    """Keep-alive connections by (host, port), at most `limit` open to each."""

    def __init__(self, *, limit: int, connect_timeout: float, read_timeout: float) -> None:
        self._limit = limit
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._idle: dict[tuple[str, int], list[Connection]] = {}
        self._slots: dict[tuple[str, int], asyncio.Semaphore] = {}
        self._open: set[Connection] = set()

    async def request(
        self, host: str, port: int, head: bytes, body: bytes | None, *, idempotent: bool
    ) -> tuple[Connection, Response]:
        """Sends the request; its connection (for `release` once the body is read) and the
        response's head. An idempotent request whose connection closed before any answer is
        sent once more, on another connection (as aiohttp does: RFC 9112 9.3.1)."""
        key = (host, port)
        slots = self._slots.get(key)
        if slots is None:
            slots = self._slots[key] = asyncio.Semaphore(self._limit)
        await slots.acquire()
        try:
            retry = idempotent
            while True:
                connection = await self._connection(key)
                connection.send(head, body)
                try:
                    return connection, await connection.response()
                except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
                    self._discard(connection)
                    if not retry:
                        raise
                    retry = False
                except BaseException:
                    self._discard(connection)
                    raise
        except BaseException:
            slots.release()
            raise

    def release(self, host: str, port: int, connection: Connection) -> None:
        """After its response was read to the end, or given up."""
        key = (host, port)
        if connection.reusable:
            connection.idle_since = time.monotonic()
            self._idle.setdefault(key, []).append(connection)
        else:
            self._discard(connection)
        self._slots[key].release()

    async def close(self) -> None:
        for connection in list(self._open):
            connection.abort()
        self._open.clear()
        self._idle.clear()

    async def _connection(self, key: tuple[str, int]) -> Connection:
        idle = self._idle.get(key)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if not connection.lost and now - connection.idle_since < IDLE_SECONDS:
                return connection
            self._discard(connection)
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._connect_timeout):
                _, connection = await loop.create_connection(
                    lambda: Connection(loop, self._read_timeout), *key
                )
        except TimeoutError as exc:
            raise aiohttp.ConnectionTimeoutError(
                f"Connection timeout to host {key[0]}:{key[1]}"
            ) from exc
        except OSError as exc:
            raise ConnectFailed(
                exc.errno, f"Cannot connect to host {key[0]}:{key[1]} [{exc.strerror}]"
            ) from exc
        self._open.add(connection)
        return connection

    def _discard(self, connection: Connection) -> None:
        self._open.discard(connection)
        connection.abort()


def request_head(method: str, target: str, headers: list[tuple[str, str]], host: str) -> bytes:
    """The request line and headers (`Host` from the URL when the client sent none)."""
    lines = [f"{method} {target} HTTP/1.1"]
    has_host = has_accept = False
    for key, value in headers:
        lowered = key.lower()
        if lowered == "host":
            has_host = True
        elif lowered == "accept":
            has_accept = True
        lines.append(f"{key}: {value}")
    if not has_host:
        lines.append(f"Host: {host}")
    if not has_accept:
        lines.append("Accept: */*")  # as aiohttp sends, so a service sees the same request
    text = "\r\n".join(lines)
    breaks = len(lines) - 1
    if text.count("\n") != breaks or text.count("\r") != breaks:
        raise ValueError("a header or the target contains a line break")
    return (text + "\r\n\r\n").encode("latin-1")
