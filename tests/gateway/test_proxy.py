"""The gateway in distributed mode: `HttpUpstream` against real servers on loopback ports (what
is relayed, and failures; bodies in `test_proxy_bodies.py`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import pytest
from aiohttp import web

from bandstand.platform.settings import Settings
from tests.gateway.echo_service import gateway_over_http
from tests.gateway.upstreams import header, raw_server
from tests.support.client import api_client
from tests.support.servers import free_port

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
    gateway = gateway_over_http(settings, url, url)
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


# Failures


async def test_a_closed_port_is_a_502(make_settings: Callable[..., Settings]) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    async with api_client(gateway_over_http(make_settings(), closed, closed)) as http:
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
    async with api_client(gateway_over_http(make_settings(), url, closed)) as http:
        anonymous = await http.get("/ready")
    # Anyone may learn the gateway is not ready; not which service, nor the error's text.
    assert anonymous.status_code == 503
    assert anonymous.json() == {"status": "not ready"}
    async with api_client(
        gateway_over_http(make_settings(metrics_public=True), url, closed)
    ) as http:
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
        gateway = gateway_over_http(make_settings(), url, url)
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
