"""The gateway in distributed mode: bodies of any size arrive intact, a body over the limit or cut
short never reaches the service, and responses are streamed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from aiohttp import web

from bandstand.gateway.proxy import HttpUpstream
from bandstand.platform.settings import Settings
from tests.gateway.echo_service import BIG, GATE, RECEIVED, MiB, digest, gateway_over_http
from tests.gateway.upstreams import header
from tests.support.client import api_client
from tests.support.uvicorn_thread import uvicorn_in_thread

# Bodies


async def test_large_responses_arrive_intact(client: httpx.AsyncClient) -> None:
    for path in ("/api/v1/alpha/big", "/api/v1/alpha/big-sized"):
        response = await client.get(path)
        assert response.status_code == 200
        assert len(response.content) == len(BIG)
        assert digest(response.content) == digest(BIG)


async def test_large_request_with_content_length_arrives_intact(
    client: httpx.AsyncClient,
) -> None:
    body = BIG[: 900 * 1024]
    response = await client.post("/api/v1/alpha/upload", content=body)
    echoed = response.json()
    assert (echoed["size"], echoed["sha256"]) == (len(body), digest(body))
    assert header(echoed, "content-length") == [str(len(body))]
    assert header(echoed, "transfer-encoding") == []


async def test_large_chunked_request_arrives_intact(client: httpx.AsyncClient) -> None:
    body = BIG[: 1000 * 1024]

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 30_000):
            yield body[start : start + 30_000]

    response = await client.post("/api/v1/alpha/upload", content=chunks())
    echoed = response.json()
    assert (echoed["size"], echoed["sha256"]) == (len(body), digest(body))
    assert header(echoed, "transfer-encoding") == ["chunked"]


async def test_small_request_body(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/beta/form", json={"a": 1})
    echoed = response.json()
    assert echoed["size"] == len(b'{"a":1}')
    assert header(echoed, "content-type") == ["application/json"]


async def test_chunked_request_over_the_limit_is_a_413(
    make_settings: Callable[..., Settings], upstream: tuple[str, web.Application]
) -> None:
    url, _app = upstream
    gateway = gateway_over_http(make_settings(max_body_bytes=100_000), url, url)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b"q" * 30_000

    async with api_client(gateway) as http:
        response = await http.post("/api/v1/alpha/upload", content=chunks())
        assert response.status_code == 413
        assert response.json() == {"detail": "Request body larger than 100000 bytes"}
        # The gateway is fine afterwards.
        assert (await http.get("/api/v1/alpha/after")).status_code == 200


@pytest.mark.parametrize("length", [None, 500_000])
async def test_a_body_cut_short_by_the_client_never_reaches_the_service(
    upstream: tuple[str, web.Application], length: int | None
) -> None:
    url, app = upstream
    proxy = HttpUpstream("alpha", url)
    await proxy.start()
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": b"a" * 100_000, "more_body": True},
        {"type": "http.request", "body": b"b" * 100_000, "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(_message: dict[str, Any]) -> None:
        pass

    headers = [(b"host", b"testserver")]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/alpha/record",
        "raw_path": b"/api/v1/alpha/record",
        "query_string": b"",
        "headers": headers,
        "scheme": "http",
        "client": ("203.0.113.9", 1234),
    }
    try:
        await proxy.handle(scope, receive, send)
        await asyncio.sleep(0.2)
    finally:
        await proxy.stop()
    assert app[RECEIVED] == []
    # The same upstream takes a whole body.
    async with httpx.AsyncClient(base_url=url) as http:
        assert (await http.post("/api/v1/alpha/record", content=b"c" * 10)).json() == {"size": 10}


# Through a real server in front of the gateway


async def test_responses_are_streamed_not_buffered(
    make_settings: Callable[..., Settings], upstream: tuple[str, web.Application]
) -> None:
    url, app = upstream
    with uvicorn_in_thread(gateway_over_http(make_settings(), url, url)) as gateway_url:
        async with (
            httpx.AsyncClient(base_url=gateway_url, timeout=10) as http,
            http.stream("GET", "/api/v1/alpha/gated") as response,
        ):
            received = bytearray()
            chunks = response.aiter_raw()
            while len(received) < MiB:
                # The upstream holds the rest back until the first mebibyte has gone through.
                received += await asyncio.wait_for(anext(chunks), 5)
            app[GATE].set()
            async for chunk in chunks:
                received += chunk
    assert digest(bytes(received)) == digest(BIG)


async def test_one_date_and_server_header_through_a_real_server(
    make_settings: Callable[..., Settings], upstream: tuple[str, web.Application]
) -> None:
    url, _app = upstream
    with uvicorn_in_thread(gateway_over_http(make_settings(), url, url)) as gateway_url:
        async with httpx.AsyncClient(base_url=gateway_url) as http:
            response = await http.get("/api/v1/alpha/x")
    assert response.status_code == 200
    assert len(response.headers.get_list("date")) == 1
    assert len(response.headers.get_list("server")) == 1
    assert response.headers["x-upstream"] == "yes"
    echoed = response.json()
    assert header(echoed, "x-forwarded-for") == ["127.0.0.1"]
    assert header(echoed, "host") == [gateway_url.removeprefix("http://")]
