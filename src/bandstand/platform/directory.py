"""The services of the platform by name, each with a probe of its readiness.

A service that reports on the others (the admin console's deep health check) asks this
directory, never another service's package. The composition root fills it: in embedded mode
with in-process calls to each app's `/ready`, in distributed mode with HTTP calls to each
service's URL. Empty by default.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from starlette.types import ASGIApp, Message

from bandstand.platform.asgi import bodiless_request

PROBE_TIMEOUT_SECONDS = 2.0
READINESS_PATH = "/ready"
READINESS_QUERY = "queues=1"
"""The probes ask for the depths of the queues each service consumes as well."""


@dataclass(frozen=True)
class Readiness:
    """What a service's `/ready` answered: its status code and body, or why there was none."""

    status_code: int | None
    body: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0

    @property
    def ready(self) -> bool:
        return self.status_code == 200


ReadinessProbe = Callable[[str | None], Awaitable[tuple[int, dict[str, Any]]]]
"""Asks one service's `/ready`, sending the given Authorization header (an admin's token
opens the checks' errors): its status code and JSON body; raises when it cannot."""


class ServiceDirectory:
    def __init__(self) -> None:
        self._probes: dict[str, ReadinessProbe] = {}

    def register(self, name: str, probe: ReadinessProbe) -> None:
        """Add `name`, or replace its probe."""
        self._probes[name] = probe

    def names(self) -> list[str]:
        return list(self._probes)

    async def readiness(
        self, probe_seconds: float = PROBE_TIMEOUT_SECONDS, authorization: str | None = None
    ) -> dict[str, Readiness]:
        """Every service's readiness, asked concurrently, each within `probe_seconds`, with
        the caller's `authorization` (an admin's token shows why a check failed)."""

        async def one(probe: ReadinessProbe) -> Readiness:
            started = time.perf_counter()
            try:
                status_code, body = await asyncio.wait_for(probe(authorization), probe_seconds)
            except TimeoutError:
                return Readiness(
                    None, error=f"no answer within {probe_seconds:g}s", seconds=probe_seconds
                )
            except Exception as exc:
                elapsed = time.perf_counter() - started
                return Readiness(None, error=str(exc) or type(exc).__name__, seconds=elapsed)
            return Readiness(status_code, body, seconds=time.perf_counter() - started)

        results = await asyncio.gather(*(one(probe) for probe in self._probes.values()))
        return dict(zip(self._probes, results, strict=True))


def asgi_probe(
    app: ASGIApp, path: str = READINESS_PATH, query: str = READINESS_QUERY
) -> ReadinessProbe:
    """Call `path` of an app in this process, as a server would, without a network hop."""

    async def probe(authorization: str | None) -> tuple[int, dict[str, Any]]:
        headers = [(b"host", b"localhost"), (b"accept", b"application/json")]
        if authorization:
            headers.append((b"authorization", authorization.encode("latin-1")))
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 0),
            "server": ("localhost", 80),
        }
        status_code = 500
        chunks: list[bytes] = []

        async def send(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = int(message["status"])
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await app(scope, bodiless_request(), send)
        return status_code, _json_object(b"".join(chunks))

    return probe


def http_probe(
    base_url: str, path: str = READINESS_PATH, query: str = READINESS_QUERY
) -> ReadinessProbe:
    """GET `path` of the service at `base_url` (a new connection each time: probes are rare)."""
    url = base_url.rstrip("/") + path + (f"?{query}" if query else "")

    async def probe(authorization: str | None) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": authorization} if authorization else {}
        async with (
            aiohttp.ClientSession() as session,
            session.get(url, headers=headers) as response,
        ):
            return response.status, _json_object(await response.read())

    return probe


def replicas_probe(
    base_urls: Sequence[str], timeout: float = PROBE_TIMEOUT_SECONDS * 0.75
) -> ReadinessProbe:
    """A service run as several replicas is ready while any of them is (the gateway sends
    requests to those that answer), so every replica is asked at once, each within `timeout`;
    the answer is the first ready replica's (else the first answer), with `replicas` telling
    each one's status code or why it gave none, so that a replica down still shows."""
    if len(base_urls) == 1:
        return http_probe(base_urls[0])
    probes = [http_probe(url) for url in base_urls]

    async def probe(authorization: str | None) -> tuple[int, dict[str, Any]]:
        results = await asyncio.gather(
            *(asyncio.wait_for(one(authorization), timeout) for one in probes),
            return_exceptions=True,
        )
        answers = [result for result in results if not isinstance(result, BaseException)]
        if not answers:
            failure = results[0]
            assert isinstance(failure, BaseException)
            raise failure
        status_code, body = next((a for a in answers if a[0] == 200), answers[0])
        replicas: dict[str, int | str] = {}
        for url, result in zip(base_urls, results, strict=True):
            if isinstance(result, BaseException):
                replicas[url] = f"unreachable: {result or type(result).__name__}"
            else:
                replicas[url] = result[0]
        return status_code, {**body, "replicas": replicas}

    return probe


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}
