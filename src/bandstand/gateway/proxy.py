"""An upstream reached over pooled HTTP: a service in another process, at one or more replicas
(`upstream.py` has the protocol, and the upstream of a service in this process)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import aiohttp
from starlette.types import Message, Receive, Scope, Send
from yarl import URL

from bandstand.gateway.bodies import (
    STREAM_CHUNK,
    BodyStream,
    ClientGone,
    content_length,
    read_small_body,
)
from bandstand.gateway.http1 import ConnectFailed, Http1Pool, request_head
from bandstand.gateway.relay import FORWARDING, HOP_BY_HOP, connection_tokens, relay_response
from bandstand.gateway.replicas import Replica, ReplicaSet
from bandstand.platform.asgi import send_json
from bandstand.platform.observability import request_id_var

logger = logging.getLogger("bandstand.gateway")

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
READY_TIMEOUT = 2.0


class HttpUpstream:
    """A service at one or more base URLs (its replicas), through one keep-alive connection pool.

    Each request goes to the replica with the fewest requests in flight (ties in turn). A
    request that never reached its replica (connect failed), or an idempotent one whose body is
    still in hand, is tried once more on another replica; the replica whose connect failed is
    out of the rotation until its `/ready` passes (`replicas.ReplicaSet`)."""

    def __init__(
        self,
        name: str,
        base_url: str | Sequence[str],
        *,
        connect_timeout: float = 2.0,
        read_timeout: float = 30.0,
        pool_size: int = 256,
        replica_backoff: float = 0.5,
        replica_max_backoff: float = 10.0,
    ) -> None:
        self.name = name
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        self.replicas = ReplicaSet(
            name, urls, self._probe, backoff=replica_backoff, max_backoff=replica_max_backoff
        )
        self._timeout = aiohttp.ClientTimeout(
            total=None,
            connect=connect_timeout,
            sock_connect=connect_timeout,
            sock_read=read_timeout,
        )
        self._pool_size = pool_size
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._session: aiohttp.ClientSession | None = None
        self._lean: Http1Pool | None = None
        self._base_texts: dict[URL, str] = {}

    async def start(self) -> None:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._pool_size, limit_per_host=self._pool_size, keepalive_timeout=30
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._timeout,
                auto_decompress=False,
                skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
                cookie_jar=aiohttp.DummyCookieJar(),
            )
            self._lean = Http1Pool(
                limit=self._pool_size,
                connect_timeout=self._connect_timeout,
                read_timeout=self._read_timeout,
            )

    async def stop(self) -> None:
        await self.replicas.close()
        if self._lean is not None:
            await self._lean.close()
            self._lean = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def ready(self, authorization: str | None = None) -> dict[str, Any]:
        """Up while any replica is; with several, `replicas` tells each one's status."""
        replicas = self.replicas.replicas
        results = await asyncio.gather(
            *(self._ready_one(replica.url, authorization) for replica in replicas)
        )
        for replica, result in zip(replicas, results, strict=True):
            if result["status"] == "up":
                self.replicas.answered(replica)
            else:
                self.replicas.mark_down(replica, "not ready")
        if len(results) == 1:
            return results[0]
        up = [result for result in results if result["status"] == "up"]
        summary = dict(up[0] if up else results[0])
        summary["replicas"] = {
            str(replica.url): result["status"]
            for replica, result in zip(replicas, results, strict=True)
        }
        return summary

    async def _ready_one(self, base_url: URL, authorization: str | None) -> dict[str, Any]:
        if self._session is None:
            await self.start()
        assert self._session is not None
        headers = {"Authorization": authorization} if authorization else {}
        try:
            async with self._session.get(
                base_url / "ready",
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=READY_TIMEOUT),
            ) as response:
                body = json.loads(await response.read())
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            return {"status": "down", "error": f"unreachable: {exc or type(exc).__name__}"}
        checks = body.get("checks", {}) if isinstance(body, dict) else {}
        return {"status": "up" if response.status == 200 else "down", "checks": checks}

    async def _probe(self, base_url: URL) -> bool:
        result = await self._ready_one(base_url, None)
        return bool(result["status"] == "up")

    async def openapi(self) -> dict[str, Any]:
        if self._session is None:
            await self.start()
        assert self._session is not None
        failure: BaseException | None = None
        # Live replicas first; the first document any of them gives is the service's.
        for replica in sorted(self.replicas.replicas, key=lambda replica: not replica.live):
            try:
                async with self._session.get(
                    replica.url / "openapi.json",
                    timeout=aiohttp.ClientTimeout(total=READY_TIMEOUT),
                ) as response:
                    response.raise_for_status()
                    document: dict[str, Any] = json.loads(await response.read())
                    return document
            except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
                failure = exc
        assert failure is not None
        raise failure

    def _url(self, base_url: URL, scope: Scope) -> URL:
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        query: bytes = scope.get("query_string", b"")
        target = raw_path.decode("latin-1")
        if query:
            target = f"{target}?{query.decode('latin-1')}"
        base = self._base_texts.get(base_url)
        if base is None:
            base = self._base_texts[base_url] = str(base_url)
        return URL(base + target, encoded=True)

    def _headers(self, scope: Scope) -> list[tuple[str, str]]:
        raw_headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
        headers: list[tuple[str, str]] = []
        host: str | None = None
        has_request_id = False
        connection: list[tuple[bytes, bytes]] = []
        for raw_key, raw_value in raw_headers:
            key = raw_key.lower()
            if key in HOP_BY_HOP or key in FORWARDING:
                if key == b"connection":
                    connection.append((key, raw_value))
                continue
            value = raw_value.decode("latin-1")
            if key == b"host":
                host = value
            elif key == b"x-request-id":
                has_request_id = True
            # Host is kept: links a service builds from its request URL name the gateway.
            headers.append((raw_key.decode("latin-1"), value))
        if connection:
            # What the client named in `Connection` is hop-by-hop for this message too.
            tokens = connection_tokens(connection)
            headers = [(k, v) for k, v in headers if k.lower().encode("latin-1") not in tokens]
        # The client as the gateway established it (its peer, or what a trusted ingress said):
        # what the client itself sent is replaced, never passed on for a service to believe.
        client = scope.get("client")
        if client and client[0]:
            headers.append(("X-Forwarded-For", client[0]))
        headers.append(("X-Forwarded-Proto", scope.get("scheme", "http")))
        if host:
            headers.append(("X-Forwarded-Host", host))
        request_id = request_id_var.get()
        if request_id and not has_request_id:
            headers.append(("X-Request-ID", request_id))
        return headers

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._session is None:
            await self.start()
        method: str = scope["method"]
        headers = self._headers(scope)
        length = content_length(scope)
        try:
            body = await read_small_body(scope, receive, length)
        except ClientGone:
            return
        stream: BodyStream | None = None
        data: bytes | AsyncIterator[bytes] | None
        if body is None:
            data = stream = BodyStream(receive)
            if length is not None:  # relayed with its length, not re-chunked
                headers.append(("Content-Length", str(length)))
        else:
            data = body if body or length is not None else None
        # Sent again only when it is idempotent and its body is still in hand (a pooled
        # keep-alive connection the service had closed fails at once), or when it never left.
        resendable = method in IDEMPOTENT and body is not None
        replica = self.replicas.pick()
        for attempt in (1, 2):
            assert replica is not None
            started = False

            async def tracked_send(message: Message) -> None:
                nonlocal started
                started = True
                await send(message)

            try:
                with self.replicas.using(replica):
                    url = self._url(replica.url, scope)
                    draining = await self._forward(method, url, headers, data, tracked_send)
                if draining:
                    self.replicas.mark_down(replica, "draining")
                else:
                    self.replicas.answered(replica)
                return
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                if started:  # the service died mid-response: nothing more can be said
                    raise
                refused = _connect_failed(exc)
                if refused:
                    self.replicas.mark_down(replica)
                unsent = refused and (stream is None or not stream.started)
                stale = resendable and _stale_connection(exc)
                retry: Replica | None = None
                if attempt == 1 and (unsent or stale):
                    other = self.replicas.pick(exclude=replica)
                    # After a stale connection its own replica is fine: rather it than one out.
                    retry = other if refused or (other and other.live) else replica
                if retry is None:
                    await self._failed(exc, send)
                    return
                logger.info("upstream %s: %s at %s; retrying", self.name, exc, replica.url)
                replica = retry

    async def _forward(
        self,
        method: str,
        url: URL,
        headers: list[tuple[str, str]],
        data: bytes | AsyncIterator[bytes] | None,
        send: Send,
    ) -> bool:
        """Relays the replica's response; True when the replica said it is draining."""
        assert self._session is not None
        if (
            self._lean is not None
            and (data is None or isinstance(data, bytes))
            and method != "HEAD"  # a body its headers announce, which never comes
            and url.scheme == "http"
        ):
            return await self._forward_lean(method, url, headers, data, send)
        async with self._session.request(
            method,
            url,
            headers=headers,
            data=data,
            allow_redirects=False,
        ) as response:
            return await relay_response(
                response.status,
                response.raw_headers,
                response.content_length,
                response.read,
                lambda: response.content.iter_chunked(STREAM_CHUNK),
                send,
            )

    async def _forward_lean(
        self,
        method: str,
        url: URL,
        headers: list[tuple[str, str]],
        data: bytes | None,
        send: Send,
    ) -> bool:
        assert self._lean is not None
        host, port = url.raw_host or "", url.port or 80
        if data is not None:
            headers = [*headers, ("Content-Length", str(len(data)))]
        head = request_head(method, url.raw_path_qs, headers, url.raw_authority)
        connection, response = await self._lean.request(
            host, port, head, data, idempotent=method in IDEMPOTENT
        )
        try:
            return await relay_response(
                response.status,
                response.raw_headers,
                response.content_length,
                response.read,
                response.chunks,
                send,
            )
        finally:
            self._lean.release(host, port, connection)

    async def _failed(self, exc: BaseException, send: Send) -> None:
        if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
            logger.warning("upstream %s timed out", self.name)
            await send_json(send, 504, {"detail": f"{self.name} service timed out"})
            return
        logger.warning("upstream %s unreachable: %s", self.name, exc)
        await send_json(send, 502, {"detail": f"{self.name} service unavailable"})


def _connect_failed(exc: BaseException) -> bool:
    """The connection to the replica was never made: nothing of the request reached it."""
    return isinstance(
        exc, aiohttp.ClientConnectorError | ConnectFailed | aiohttp.ConnectionTimeoutError
    )


def _stale_connection(exc: BaseException) -> bool:
    """A reused connection the service had closed: safe to retry, unlike a refused connect."""
    if isinstance(exc, aiohttp.ClientConnectorError | ConnectFailed | aiohttp.ServerTimeoutError):
        return False
    return isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientOSError)
