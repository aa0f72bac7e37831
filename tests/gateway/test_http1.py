"""The proxy's own HTTP/1.1 client (`gateway.http1`) on what a raw upstream may answer."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bandstand.gateway.app import create_gateway_app
from bandstand.gateway.http1 import request_head
from bandstand.gateway.proxy import HttpUpstream
from bandstand.gateway.upstream import Upstream
from bandstand.platform.settings import Settings
from tests.gateway.upstreams import ROUTES, raw_server
from tests.support.client import api_client

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def _gateway(settings: Settings, url: str) -> Any:
    upstreams: dict[str, Upstream] = {
        "alpha": HttpUpstream("alpha", url, read_timeout=2.0),
        "beta": HttpUpstream("beta", url, read_timeout=2.0),
    }
    return create_gateway_app(ROUTES, upstreams, settings, access_log=False)


def _answering(answer: bytes, served: list[bytes], *, close: bool | None = None) -> Handler:
    """Answers every request on a connection with `answer`; records each request's head.
    Closes the connection after an answer that says so or has no length (unless `close`)."""
    lowered = answer.lower()
    if close is None:
        close = b"connection: close" in lowered or b"content-length" not in lowered

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                served.append(await reader.readuntil(b"\r\n\r\n"))
                writer.write(answer)
                await writer.drain()
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    return handle


async def test_an_interim_response_is_skipped(make_settings: Callable[..., Settings]) -> None:
    served: list[bytes] = []
    answer = (
        b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Final: yes\r\n\r\nfinal"
    )
    async with (
        raw_server(_answering(answer, served)) as url,
        api_client(_gateway(make_settings(), url)) as http,
    ):
        response = await http.get("/api/v1/alpha/x")
    assert response.status_code == 200
    assert response.text == "final"
    assert response.headers["x-final"] == "yes"
    assert "link" not in response.headers


async def test_a_body_ended_by_the_close_arrives_whole(
    make_settings: Callable[..., Settings],
) -> None:
    served: list[bytes] = []
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" + b"x" * 200_000
    async with (
        raw_server(_answering(answer, served)) as url,
        api_client(_gateway(make_settings(), url)) as http,
    ):
        for _ in range(2):
            response = await http.get("/api/v1/alpha/x")
            assert response.status_code == 200
            assert response.content == b"x" * 200_000
    assert len(served) == 2


async def test_connection_close_is_not_reused_and_keep_alive_is(
    make_settings: Callable[..., Settings],
) -> None:
    connections: list[int] = []

    def counting(answer: bytes) -> Handler:
        served: list[bytes] = []
        inner = _answering(answer, served)

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            connections.append(1)
            await inner(reader, writer)

        return handle

    closing = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
    async with (
        raw_server(counting(closing)) as url,
        api_client(_gateway(make_settings(), url)) as http,
    ):
        for _ in range(3):
            assert (await http.get("/api/v1/alpha/x")).text == "ok"
    assert len(connections) == 3
    connections.clear()
    kept = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    async with (
        raw_server(counting(kept)) as url,
        api_client(_gateway(make_settings(), url)) as http,
    ):
        for _ in range(3):
            assert (await http.get("/api/v1/alpha/x")).text == "ok"
    assert len(connections) == 1


async def test_an_invalid_response_is_a_502(make_settings: Callable[..., Settings]) -> None:
    served: list[bytes] = []
    async with (
        raw_server(_answering(b"NOT HTTP AT ALL\r\n\r\n", served)) as url,
        api_client(_gateway(make_settings(), url)) as http,
    ):
        response = await http.post("/api/v1/alpha/x", content=b"{}")
    assert response.status_code == 502
    assert response.json() == {"detail": "alpha service unavailable"}


async def test_the_request_as_sent(make_settings: Callable[..., Settings]) -> None:
    served: list[bytes] = []
    answer = b"HTTP/1.1 204 No Content\r\n\r\n"
    async with (
        raw_server(_answering(answer, served, close=False)) as url,
        api_client(_gateway(make_settings(), url)) as http,
    ):
        got = await http.get("/api/v1/alpha/x?q=1", headers={"Accept": "text/html"})
        posted = await http.post("/api/v1/alpha/y", content=b"", headers={"Accept": "*/*"})
    assert (got.status_code, posted.status_code) == (204, 204)
    lines = served[0].decode("latin-1").split("\r\n")
    assert lines[0] == "GET /api/v1/alpha/x?q=1 HTTP/1.1"
    names = [line.split(":", 1)[0].lower() for line in lines[1:] if line]
    assert names.count("accept") == 1
    assert names.count("host") == 1
    assert "content-length" not in names
    assert "content-length: 0" in served[1].decode("latin-1").lower()


def test_request_head() -> None:
    head = request_head("GET", "/a?b=c", [("X-One", "1")], "svc:8000")
    assert head == b"GET /a?b=c HTTP/1.1\r\nX-One: 1\r\nHost: svc:8000\r\nAccept: */*\r\n\r\n"
    kept = request_head("GET", "/", [("host", "edge"), ("accept", "a/b")], "svc:8000")
    assert kept == b"GET / HTTP/1.1\r\nhost: edge\r\naccept: a/b\r\n\r\n"
    for headers in ([("X-Bad", "a\r\nX-Injected: 1")], [("X-Bad", "a\nb")]):
        with pytest.raises(ValueError, match="line break"):
            request_head("GET", "/", headers, "svc")
