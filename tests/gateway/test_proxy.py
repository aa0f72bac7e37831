"""The gateway in distributed mode: `HttpUpstream` against real servers on loopback ports."""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from aiohttp import web

from bandstand.gateway.app import create_gateway_app
from bandstand.gateway.proxy import HttpUpstream
from bandstand.gateway.upstream import Upstream
from bandstand.platform.settings import Settings
from tests.gateway.upstreams import ROUTES, aiohttp_server, header, raw_server
from tests.support.client import api_client
from tests.support.servers import free_port
from tests.support.uvicorn_thread import uvicorn_in_thread

MiB = 1024 * 1024
GATE = web.AppKey("gate", asyncio.Event)
RECEIVED = web.AppKey("received", list[int])
BIG = random.Random(7).randbytes(6 * MiB)
OPENAPI = {
    "openapi": "3.1.0",
    "info": {"title": "alpha", "version": "1"},
    "paths": {"/api/v1/alpha/things": {"get": {"responses": {"200": {"description": "ok"}}}}},
}


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def _echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.json_response(
        {
            "method": request.method,
            "target": request.raw_path,
            "headers": [[k.decode(), v.decode()] for k, v in request.raw_headers],
            "size": len(body),
            "sha256": _digest(body),
        },
        headers={"X-Upstream": "yes", "Keep-Alive": "timeout=5"},
    )


async def _big_chunked(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
    await response.prepare(request)
    for start in range(0, len(BIG), 100_000):
        await response.write(BIG[start : start + 100_000])
    await response.write_eof()
    return response


async def _big_sized(_request: web.Request) -> web.Response:
    return web.Response(body=BIG, content_type="application/octet-stream")


async def _gated(request: web.Request) -> web.StreamResponse:
    """One mebibyte at once, the rest only when the test opens the gate."""
    response = web.StreamResponse()
    await response.prepare(request)
    await response.write(BIG[:MiB])
    await request.app[GATE].wait()
    await response.write(BIG[MiB:])
    await response.write_eof()
    return response


async def _slow(_request: web.Request) -> web.Response:
    await asyncio.sleep(30)
    return web.Response(text="too late")


async def _redirect(_request: web.Request) -> web.Response:
    raise web.HTTPFound("/api/v1/alpha/elsewhere")


async def _cookies(_request: web.Request) -> web.Response:
    response = web.Response(status=204)
    response.headers.add("Set-Cookie", "a=1; Path=/")
    response.headers.add("Set-Cookie", "b=2; Path=/")
    return response


async def _record(request: web.Request) -> web.Response:
    """Notes the size of each body received whole."""
    body = await request.read()
    request.app[RECEIVED].append(len(body))
    return web.json_response({"size": len(body)})


async def _openapi(_request: web.Request) -> web.Response:
    return web.json_response(OPENAPI)


async def _ready(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ready", "checks": {"database": {"status": "up"}}})


UPSTREAM_ROUTES = [
    web.get("/api/v1/alpha/big", _big_chunked),
    web.get("/api/v1/alpha/big-sized", _big_sized),
    web.get("/api/v1/alpha/gated", _gated),
    web.get("/api/v1/alpha/slow", _slow),
    web.get("/api/v1/alpha/redirect", _redirect),
    web.get("/api/v1/alpha/cookies", _cookies),
    web.post("/api/v1/alpha/record", _record),
    web.get("/openapi.json", _openapi),
    web.get("/ready", _ready),
    web.route("*", "/{tail:.*}", _echo),
]


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[str, web.Application]]:
    async with aiohttp_server(UPSTREAM_ROUTES, {GATE: asyncio.Event(), RECEIVED: []}) as server:
        yield server


def _gateway(settings: Settings, alpha_url: str, beta_url: str, **options: Any) -> Any:
    upstreams: dict[str, Upstream] = {
        "alpha": HttpUpstream("alpha", alpha_url, **options),
        "beta": HttpUpstream("beta", beta_url, **options),
    }
    return create_gateway_app(ROUTES, upstreams, settings, access_log=False)


@pytest.fixture
async def client(
    make_settings: Callable[..., Settings], upstream: tuple[str, web.Application]
) -> AsyncIterator[httpx.AsyncClient]:
    url, _app = upstream
    gateway = _gateway(make_settings(), url, url, read_timeout=0.5)
    async with api_client(gateway, timeout=20) as http:
        yield http


# What is relayed


async def test_request_headers_are_relayed_without_hop_by_hop_ones(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        "/api/v1/alpha/x",
        headers={
            "X-Custom": "kept",
            "Authorization": "Bearer abc",
            "Connection": "keep-alive, X-Hop",
            "X-Hop": "dropped",
            "Keep-Alive": "timeout=5",
            "TE": "trailers",
            "Upgrade": "h2c",
            "Proxy-Authorization": "Basic c2VjcmV0",
            "X-Forwarded-For": "198.51.100.7",
            "X-Forwarded-Proto": "https",
            "X-Request-ID": "relay-1",
        },
    )
    assert response.status_code == 200
    echoed = response.json()
    assert header(echoed, "x-custom") == ["kept"]
    assert header(echoed, "authorization") == ["Bearer abc"]
    for name in ("x-hop", "keep-alive", "te", "upgrade", "proxy-authorization"):
        assert header(echoed, name) == [], name
    assert [value.lower() for value in header(echoed, "connection")] in ([], ["keep-alive"])
    # The client's own X-Forwarded-For is replaced by the address the gateway saw.
    assert header(echoed, "x-forwarded-for") == ["203.0.113.10"]
    # What the gateway itself saw, not what the client claimed.
    assert header(echoed, "x-forwarded-proto") == ["http"]
    assert header(echoed, "x-forwarded-host") == ["testserver"]
    assert header(echoed, "host") == ["testserver"]
    assert header(echoed, "x-request-id") == ["relay-1"]


async def test_forwarded_headers_are_added(client: httpx.AsyncClient) -> None:
    echoed = (await client.get("/api/v1/beta/y")).json()
    assert header(echoed, "x-forwarded-for") == ["203.0.113.10"]
    assert header(echoed, "x-forwarded-proto") == ["http"]


async def test_a_forged_chain_from_an_untrusted_client_is_replaced(
    client: httpx.AsyncClient,
) -> None:
    forged = [("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-For", "10.0.0.1, 127.0.0.1")]
    echoed = (await client.get("/api/v1/alpha/x", headers=forged)).json()
    assert header(echoed, "x-forwarded-for") == ["203.0.113.10"]


@pytest.mark.parametrize(
    ("chain", "client_address"),
    [
        # The ingress (10.0.0.2, trusted) appended the address it saw: that one is the client.
        ("6.6.6.6, 198.51.100.7", "198.51.100.7"),
        # Trusted hops are walked over, up to the first address that is not a proxy of ours.
        ("6.6.6.6, 198.51.100.7, 10.9.9.9", "198.51.100.7"),
        # A hop that is not an address ends the walk: the last trusted hop is the client.
        ("198.51.100.7, not-an-ip, 10.9.9.9", "10.9.9.9"),
        ("198.51.100.7, 10.9.9.9:443", "10.0.0.2"),
        ("", "10.0.0.2"),
    ],
)
async def test_behind_a_trusted_ingress_the_chain_is_walked(
    make_settings: Callable[..., Settings],
    upstream: tuple[str, web.Application],
    chain: str,
    client_address: str,
) -> None:
    url, _app = upstream
    settings = make_settings(trusted_proxies=["10.0.0.0/8"])
    gateway = _gateway(settings, url, url)
    async with api_client(gateway, client=("10.0.0.2", 40000)) as http:
        headers = {"X-Forwarded-For": chain, "X-Forwarded-Proto": "https"}
        echoed = (await http.get("/api/v1/alpha/x", headers=headers)).json()
    assert header(echoed, "x-forwarded-for") == [client_address]
    # The ingress terminated TLS: what it says of the scheme is believed too.
    assert header(echoed, "x-forwarded-proto") == ["https"]


async def test_request_id_is_made_and_passed_on(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/alpha/x")
    assert header(response.json(), "x-request-id") == [response.headers["x-request-id"]]


async def test_response_headers_are_relayed(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/alpha/x")
    assert response.headers["x-upstream"] == "yes"
    assert response.headers["content-type"].startswith("application/json")
    assert "keep-alive" not in response.headers
    assert "transfer-encoding" not in response.headers
    cookies = await client.get("/api/v1/alpha/cookies")
    assert cookies.status_code == 204
    assert cookies.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2; Path=/"]


async def test_redirects_are_relayed_not_followed(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/alpha/redirect")
    assert response.status_code == 302
    assert response.headers["location"] == "/api/v1/alpha/elsewhere"


@pytest.mark.parametrize(
    "target",
    [
        "/api/v1/alpha/a%2Fb/c%20d",
        "/api/v1/alpha/caf%C3%A9?x=1&y=%2F&z=a+b&z=c",
        "/api/v1/alpha/q?empty=&flag&enc=%26%3D",
        "/legacy/x;param?a=%25",
    ],
)
async def test_paths_and_query_strings_are_passed_on_as_sent(
    client: httpx.AsyncClient, target: str
) -> None:
    response = await client.get(target)
    assert response.status_code == 200
    assert response.json()["target"] == target


async def test_methods_and_head(client: httpx.AsyncClient) -> None:
    for method in ("PUT", "PATCH", "DELETE", "OPTIONS"):
        response = await client.request(method, "/api/v1/alpha/m", content=b"abc")
        assert response.json()["method"] == method
        assert response.json()["size"] == 3
    head = await client.head("/api/v1/alpha/m")
    assert head.status_code == 200
    assert head.content == b""


# Bodies


async def test_large_responses_arrive_intact(client: httpx.AsyncClient) -> None:
    for path in ("/api/v1/alpha/big", "/api/v1/alpha/big-sized"):
        response = await client.get(path)
        assert response.status_code == 200
        assert len(response.content) == len(BIG)
        assert _digest(response.content) == _digest(BIG)


async def test_large_request_with_content_length_arrives_intact(
    client: httpx.AsyncClient,
) -> None:
    body = BIG[: 900 * 1024]
    response = await client.post("/api/v1/alpha/upload", content=body)
    echoed = response.json()
    assert (echoed["size"], echoed["sha256"]) == (len(body), _digest(body))
    assert header(echoed, "content-length") == [str(len(body))]
    assert header(echoed, "transfer-encoding") == []


async def test_large_chunked_request_arrives_intact(client: httpx.AsyncClient) -> None:
    body = BIG[: 1000 * 1024]

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 30_000):
            yield body[start : start + 30_000]

    response = await client.post("/api/v1/alpha/upload", content=chunks())
    echoed = response.json()
    assert (echoed["size"], echoed["sha256"]) == (len(body), _digest(body))
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
    gateway = _gateway(make_settings(max_body_bytes=100_000), url, url)

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


# Failures


async def test_a_closed_port_is_a_502(make_settings: Callable[..., Settings]) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    async with api_client(_gateway(make_settings(), closed, closed)) as http:
        started = time.monotonic()
        response = await http.post("/api/v1/alpha/x", json={"a": 1})
        assert time.monotonic() - started < 3
        assert response.status_code == 502
        assert response.json() == {"detail": "alpha service unavailable"}
        assert response.headers["x-request-id"]
        beta = await http.get("/api/v1/beta/x")
        assert beta.json() == {"detail": "beta service unavailable"}


async def test_an_upstream_slower_than_the_read_timeout_is_a_504(
    client: httpx.AsyncClient,
) -> None:
    started = time.monotonic()
    response = await client.get("/api/v1/alpha/slow")
    assert time.monotonic() - started < 3
    assert response.status_code == 504
    assert response.json() == {"detail": "alpha service timed out"}


async def test_ready_and_docs_through_http(
    make_settings: Callable[..., Settings], upstream: tuple[str, web.Application]
) -> None:
    url, _app = upstream
    closed = f"http://127.0.0.1:{free_port()}"
    async with api_client(_gateway(make_settings(), url, closed)) as http:
        anonymous = await http.get("/ready")
    # Anyone may learn the gateway is not ready; not which service, nor the error's text.
    assert anonymous.status_code == 503
    assert anonymous.json() == {"status": "not ready"}
    async with api_client(_gateway(make_settings(metrics_public=True), url, closed)) as http:
        ready = await http.get("/ready")
        document = (await http.get("/openapi.json")).json()
    assert ready.status_code == 503
    assert "unreachable" in ready.json()["services"]["beta"]["error"]
    body = ready.json()
    assert body["detail"] == "unavailable: beta"
    assert body["services"]["alpha"] == {
        "status": "up",
        "checks": {"database": {"status": "up"}},
    }
    assert body["services"]["beta"]["status"] == "down"
    # One service down does not hide the others' documentation.
    assert list(document["paths"]) == ["/api/v1/alpha/things"]


async def test_connections_the_upstream_closed_are_retried_for_get(
    make_settings: Callable[..., Settings],
) -> None:
    """Each connection answers one request; the next one on it is dropped unanswered, as
    when a server closes an idle keep-alive connection just as the gateway reuses it."""
    connections = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        try:
            await reader.readuntil(b"\r\n\r\n")
            await asyncio.sleep(0.05)  # so that concurrent requests open several connections
            body = b'{"ok": true}'
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
            )
            await writer.drain()
            await reader.read(1)  # the next request on this connection ...
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()  # ... is dropped without an answer

    async with raw_server(handle) as url:
        gateway = _gateway(make_settings(), url, url)
        async with api_client(gateway) as http:
            first = await asyncio.gather(*(http.get("/api/v1/alpha/x") for _ in range(2)))
            assert [response.status_code for response in first] == [200, 200]
            assert connections == 2
            # Both pooled connections are stale now: the GET is still answered.
            response = await http.get("/api/v1/alpha/x")
            assert response.status_code == 200
            assert response.json() == {"ok": True}
            # A POST may have been acted on: it is never sent twice.
            before = connections
            post = await http.post("/api/v1/alpha/x", content=b"once")
            assert post.status_code == 502
            assert post.json() == {"detail": "alpha service unavailable"}
            assert connections == before


# Through a real server in front of the gateway


async def test_responses_are_streamed_not_buffered(
    make_settings: Callable[..., Settings], upstream: tuple[str, web.Application]
) -> None:
    url, app = upstream
    with uvicorn_in_thread(_gateway(make_settings(), url, url)) as gateway_url:
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
    assert _digest(bytes(received)) == _digest(BIG)


async def test_one_date_and_server_header_through_a_real_server(
    make_settings: Callable[..., Settings], upstream: tuple[str, web.Application]
) -> None:
    url, _app = upstream
    with uvicorn_in_thread(_gateway(make_settings(), url, url)) as gateway_url:
        async with httpx.AsyncClient(base_url=gateway_url) as http:
            response = await http.get("/api/v1/alpha/x")
    assert response.status_code == 200
    assert len(response.headers.get_list("date")) == 1
    assert len(response.headers.get_list("server")) == 1
    assert response.headers["x-upstream"] == "yes"
    echoed = response.json()
    assert header(echoed, "x-forwarded-for") == ["127.0.0.1"]
    assert header(echoed, "host") == [gateway_url.removeprefix("http://")]
