"""Reads from Redis on one pipelined connection: the GET and MGET the platform makes on nearly
every request in distributed mode (a token's revocation, a service's write generation).

Commands are written as they come, on one connection per process, and Redis answers them in
order, so each reply settles the oldest read waiting: no pool, no lock, one write and no task per
read. A read costs the event loop about a third of redis-py's asyncio client (30 against 90 µs
of CPU, measured on loopback), which the platform keeps for everything else (writes, counters,
pipelines, health checks).

A connection that fails, or an answer that takes longer than `timeout`, fails every read in
flight with `ConnectionError` (`TimeoutError` for the latter) and is dropped; the next read
connects again. Only plain `redis://` URLs are read this way (`from_url` gives None for TLS and
Unix sockets, which redis-py reads).
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import unquote, urlsplit


class RedisReplyError(ConnectionError):
    """Redis answered a read with an error (a key of another type, a refused login)."""


@dataclass
class _Waiting:
    future: asyncio.Future[Any]
    sent: float


class _Replies(asyncio.Protocol):
    """Parses RESP2 replies and settles the waiting reads in order."""

    def __init__(self, on_lost: Any) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiting: collections.deque[_Waiting] = collections.deque()
        self._buffer = bytearray()
        self._on_lost = on_lost

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not registered as one

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._on_lost(self, ConnectionError(f"redis connection lost: {exc or 'closed'}"))

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while self.waiting:
            try:
                parsed = _parse(self._buffer, 0)
            except (RedisReplyError, ValueError):  # out of step: nothing after it can be trusted
                if self.transport is not None:
                    self.transport.abort()
                return
            if parsed is None:
                return
            value, end = parsed
            del self._buffer[:end]
            waiting = self.waiting.popleft()
            if waiting.future.done():
                continue
            if isinstance(value, RedisReplyError):
                waiting.future.set_exception(value)
            else:
                waiting.future.set_result(value)


def _parse(buffer: bytearray, start: int) -> tuple[Any, int] | None:
    """One reply at `start`: its value and where it ends; None when not all of it arrived."""
    line_end = buffer.find(b"\r\n", start)
    if line_end < 0:
        return None
    kind, line = buffer[start : start + 1], bytes(buffer[start + 1 : line_end])
    after = line_end + 2
    if kind == b"+":
        return line.decode(), after
    if kind == b"-":
        return RedisReplyError(line.decode(errors="replace")), after
    if kind == b":":
        return int(line), after
    if kind == b"$":
        length = int(line)
        if length < 0:
            return None, after
        if len(buffer) < after + length + 2:
            return None
        return bytes(buffer[after : after + length]).decode(), after + length + 2
    if kind == b"*":
        count = int(line)
        if count < 0:
            return None, after
        items = []
        for _ in range(count):
            parsed = _parse(buffer, after)
            if parsed is None:
                return None
            item, after = parsed
            items.append(item)
        return items, after
    raise RedisReplyError(f"unexpected reply from redis: {bytes(buffer[start:line_end])!r}")


def _open(replies: _Replies | None) -> bool:
    return (
        replies is not None and replies.transport is not None and not replies.transport.is_closing()
    )


def _command(*parts: str) -> bytes:
    encoded = [part.encode() for part in parts]
    head = b"*%d\r\n" % len(encoded)
    return head + b"".join(b"$%d\r\n%s\r\n" % (len(part), part) for part in encoded)


class PipelinedReader:
    """GET and MGET on one connection to the Redis at `host:port`, database `db`."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        db: int = 0,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 0.5,
    ) -> None:
        self._address = (host, port)
        self._login: list[bytes] = []
        if password is not None:
            credentials = (username, password) if username else (password,)
            self._login.append(_command("AUTH", *credentials))
        if db:
            self._login.append(_command("SELECT", str(db)))
        self._timeout = timeout
        self._replies: _Replies | None = None
        self._connecting: asyncio.Lock | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 0.5) -> PipelinedReader | None:
        """The reader of a plain `redis://host:port/db` URL; None for any other (TLS, a Unix
        socket, options in the query)."""
        parts = urlsplit(url)
        if parts.scheme != "redis" or parts.query:
            return None
        path = parts.path.strip("/")
        if path and not path.isdigit():
            return None
        return cls(
            parts.hostname or "localhost",
            parts.port or 6379,
            db=int(path or 0),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
            timeout=timeout,
        )

    async def get(self, key: str) -> str | None:
        value: str | None = await self._send(_command("GET", key))
        return value

    async def mget(self, keys: Sequence[str]) -> list[str | None]:
        if not keys:
            return []
        values: list[str | None] = await self._send(_command("MGET", *keys))
        return values

    async def close(self) -> None:
        replies, self._replies = self._replies, None
        if replies is not None and replies.transport is not None:
            replies.transport.close()
        self._fail(replies, ConnectionError("redis reader closed"))

    async def _send(self, command: bytes) -> Any:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # A connection serves the event loop that opened it; another one (a second
            # `asyncio.run` of a command) opens its own.
            self._loop, self._replies, self._connecting, self._timer = loop, None, None, None
        replies = self._replies
        if replies is None or not _open(replies):
            replies = await self._connect()
        waiting = _Waiting(loop.create_future(), loop.time())
        assert replies.transport is not None
        replies.transport.write(command)
        replies.waiting.append(waiting)
        if self._timer is None:
            self._timer = loop.call_later(self._timeout, self._expire)
        return await waiting.future

    async def _connect(self) -> _Replies:
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            current = self._replies
            if current is not None and _open(current):
                return current
            loop = asyncio.get_running_loop()
            host, port = self._address
            try:
                _, replies = await asyncio.wait_for(
                    loop.create_connection(lambda: _Replies(self._fail), host, port),
                    self._timeout,
                )
            except TimeoutError as exc:
                raise TimeoutError(f"redis at {host}:{port} did not answer") from exc
            try:
                for command in self._login:
                    waiting = _Waiting(loop.create_future(), loop.time())
                    assert replies.transport is not None
                    replies.transport.write(command)
                    replies.waiting.append(waiting)
                    await asyncio.wait_for(waiting.future, self._timeout)
            except BaseException:
                if replies.transport is not None:
                    replies.transport.close()
                raise
            self._replies = replies
            return replies

    def _expire(self) -> None:
        """Drop the connection when its oldest read has waited `timeout`; else look again when
        it will have."""
        self._timer = None
        replies = self._replies
        if replies is None or not replies.waiting:
            return
        loop = asyncio.get_running_loop()
        waited = loop.time() - replies.waiting[0].sent
        if waited >= self._timeout:
            self._replies = None
            if replies.transport is not None:
                replies.transport.abort()
            self._fail(replies, TimeoutError(f"redis did not answer within {self._timeout} s"))
            return
        self._timer = loop.call_later(self._timeout - waited, self._expire)

    def _fail(self, replies: _Replies | None, error: OSError) -> None:
        if replies is None:
            return
        if self._replies is replies:
            self._replies = None
        while replies.waiting:
            future = replies.waiting.popleft().future
            if not future.done():
                future.set_exception(error)
