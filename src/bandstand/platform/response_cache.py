"""A short-lived shared cache of anonymous GET responses of public lists.

Public lists (songs, concerts, ...) are read far more often than they change, and the same
pages are asked for again and again. For `ttl` seconds an anonymous request for one of the
listed paths is answered from the platform cache (memory, or Redis shared by every replica)
without touching the database. A write is visible to the next read: an answer records the
service's write generation (`platform.write_generation`) it was computed at, and is not answered
once a committed write of the service has moved it.

Never cached, never served from the cache: requests with an `Authorization` header (their
answers depend on who asks, e.g. `liked_by_me`), methods other than GET, and responses other
than a complete 200 with a JSON body. A cache that fails is bypassed, never an error.

When an entry is missing, one request per process computes it while the others asking for the
same key wait for it (up to `FILL_WAIT` seconds), so a first request under load costs one query,
not one per waiting connection.

An entry older than `ttl` is not dropped at once: for `stale` seconds more it is still answered
(`x-cache: STALE`) while one task per process computes its successor in the background, so
under load no request waits for an expiry: without this, every connection reaching a popular
key in the moment it expired waited for the one slow query that refilled it. An entry is never
answered more than `ttl + stale` seconds after it was computed, so while the database is away
a page stays readable for that long, then the request reaches the service and its 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Coroutine, Iterable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bandstand.platform.asgi import bodiless_request
from bandstand.platform.cache import Cache
from bandstand.platform.write_generation import INITIAL, WriteGeneration

logger = logging.getLogger(__name__)

CACHE_HEADER = b"x-cache"
_KEPT_HEADERS = frozenset({b"content-type", b"content-length"})
FILL_WAIT = 5.0
STALE_SECONDS = 10.0
REFRESH_TIMEOUT = 30.0


class BackgroundRefreshes:
    """The refreshes running in the background, one per key: a service stops them before it
    closes its database."""

    def __init__(self) -> None:
        self.running: dict[str, asyncio.Task[None]] = {}

    def __contains__(self, key: str) -> bool:
        return key in self.running

    def start(self, key: str, refresh: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(refresh)
        self.running[key] = task
        task.add_done_callback(lambda _task: self.running.pop(key, None))

    async def stop(self) -> None:
        tasks = list(self.running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class PublicResponseCache:
    def __init__(
        self,
        app: ASGIApp,
        *,
        cache: Cache,
        service: str,
        paths: Iterable[str],
        ttl: float,
        stale: float = STALE_SECONDS,
        refreshes: BackgroundRefreshes | None = None,
        generation: WriteGeneration | None = None,
    ) -> None:
        self.app = app
        self.generation = generation
        self.cache = cache
        self.service = service
        self.paths = frozenset(path.rstrip("/") or "/" for path in paths)
        self.ttl = ttl
        self.stale = stale
        self._filling: dict[str, asyncio.Event] = {}
        self.refreshes = refreshes if refreshes is not None else BackgroundRefreshes()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._cacheable(scope):
            await self.app(scope, receive, send)
            return
        key = self._key(scope)
        try:
            generation, found = await self._lookup(key)
            filling = self._filling.get(key)
            if found is None and filling is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(filling.wait(), FILL_WAIT)
                generation, found = await self._lookup(key)
        except Exception as exc:
            logger.warning("response cache unavailable, bypassed: %s", exc)
            await self.app(scope, receive, send)
            return
        if found is not None:
            record, body = found
            fresh = time.time() - record.get("stored_at", 0.0) <= self.ttl
            if not fresh and key not in self.refreshes:
                refresh_scope = {**scope, "state": dict(scope.get("state", {}))}
                self.refreshes.start(key, self._refresh(key, refresh_scope, generation))
            await _replay(record, body, send, b"HIT" if fresh else b"STALE")
            return
        if key in self._filling:  # the other fill failed or is slow: answer this one directly
            await self.app(scope, receive, send)
            return
        self._filling[key] = done = asyncio.Event()
        try:
            await self._fill(key, generation, scope, receive, send)
        finally:
            del self._filling[key]
            done.set()

    async def _lookup(self, key: str) -> tuple[str, tuple[dict[str, Any], str] | None]:
        """The current write generation, and the answer under `key` if it was computed at it."""
        if self.generation is None:
            generation, stored = INITIAL, await self.cache.get(key)
        else:
            generation, stored = await self.generation.current_and(key)
        if stored is None:
            return generation, None
        head, _, body = stored.partition("\n")
        record = json.loads(head)
        if record.get("generation", INITIAL) != generation:
            return generation, None  # the service wrote since: not an answer any more
        return generation, (record, body)

    def _cacheable(self, scope: Scope) -> bool:
        if self.ttl <= 0 or scope["type"] != "http" or scope["method"] != "GET":
            return False
        if (scope["path"].rstrip("/") or "/") not in self.paths:
            return False
        return all(name != b"authorization" for name, _ in scope["headers"])

    async def _refresh(self, key: str, scope: Scope, generation: str) -> None:
        answered = asyncio.Event()

        async def discard(message: Message) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                answered.set()

        try:
            filled = self._fill(key, generation, scope, bodiless_request(answered), discard)
            await asyncio.wait_for(filled, REFRESH_TIMEOUT)
        except Exception:
            logger.exception("refreshing a cached response failed; the stale one stays")

    def _key(self, scope: Scope) -> str:
        # Page links are absolute URLs built from the request: the host is part of the answer.
        host = next((value for name, value in scope["headers"] if name == b"host"), b"")
        query = scope.get("query_string", b"").decode("latin-1")
        path = scope["path"].rstrip("/") or "/"
        return f"response:{self.service}:{scope.get('scheme', 'http')}://{host.decode('latin-1')}{path}?{query}"

    async def _fill(
        self, key: str, generation: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Answer the request and keep the answer, recorded at `generation`: read before the
        answer is computed, so a write meanwhile leaves it already outdated."""
        start: Message | None = None
        chunks: list[bytes] = []
        complete = False

        async def recording_send(message: Message) -> None:
            nonlocal start, complete
            if message["type"] == "http.response.start":
                start = message
                headers = [*message.get("headers", []), (CACHE_HEADER, b"MISS")]
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                complete = not message.get("more_body", False)
            await send(message)

        await self.app(scope, receive, recording_send)
        if start is None or start["status"] != 200 or not complete:
            return
        headers = [
            (name, value) for name, value in start.get("headers", []) if name in _KEPT_HEADERS
        ]
        if (b"content-type", b"application/json") not in headers:
            return
        record = json.dumps(
            {
                "headers": [[name.decode(), value.decode()] for name, value in headers],
                "stored_at": time.time(),
                "generation": generation,
            }
        )
        body = b"".join(chunks).decode()
        try:
            await self.cache.set(key, f"{record}\n{body}", ttl=self.ttl + self.stale)
        except Exception as exc:
            logger.warning("response cache unavailable, not stored: %s", exc)


async def _replay(record: dict[str, Any], body: str, send: Send, state: bytes) -> None:
    headers = [(name.encode(), value.encode()) for name, value in record["headers"]]
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [*headers, (CACHE_HEADER, state)],
        }
    )
    await send({"type": "http.response.body", "body": body.encode()})
