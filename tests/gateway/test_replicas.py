"""Replicas behind the gateway: real servers on loopback ports, stopped and started again."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from aiohttp import web

from bandstand import registry
from bandstand.gateway.app import create_gateway_app
from bandstand.gateway.proxy import HttpUpstream
from bandstand.gateway.upstream import Upstream
from bandstand.platform.settings import Settings
from tests.gateway.upstreams import ROUTES, raw_server
from tests.support.client import api_client
from tests.support.servers import free_port

NAME = web.AppKey("name", str)
SEEN = web.AppKey("seen", list[str])
GATE = web.AppKey("gate", asyncio.Event)


async def _answer(request: web.Request) -> web.Response:
    body = await request.read()
    request.app[SEEN].append(request.method)
    return web.json_response({"replica": request.app[NAME], "size": len(body)})


async def _held(request: web.Request) -> web.Response:
    request.app[SEEN].append("held")
    await request.app[GATE].wait()
    return web.json_response({"replica": request.app[NAME]})


async def _ready(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ready", "checks": {}})


class ReplicaServer:
    """An aiohttp app answering with its own name, on a port it keeps across restarts."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.seen: list[str] = []
        self.gate = asyncio.Event()
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app[NAME], app[SEEN], app[GATE] = self.name, self.seen, self.gate
        app.add_routes(
            [
                web.get("/ready", _ready),
                web.get("/api/v1/alpha/held", _held),
                web.route("*", "/{tail:.*}", _answer),
            ]
        )
        self._runner = web.AppRunner(app, shutdown_timeout=0.2, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()


@pytest.fixture
async def replicas() -> AsyncIterator[tuple[ReplicaServer, ReplicaServer]]:
    one, two = ReplicaServer("one"), ReplicaServer("two")
    await one.start()
    await two.start()
    try:
        yield one, two
    finally:
        await one.stop()
        await two.stop()


def _gateway(settings: Settings, alpha: HttpUpstream) -> Any:
    upstreams: dict[str, Upstream] = {"alpha": alpha}
    return create_gateway_app(ROUTES, upstreams, settings, access_log=False)


def _upstream(*urls: str) -> HttpUpstream:
    return HttpUpstream("alpha", list(urls), replica_backoff=0.02, replica_max_backoff=0.1)


async def _names(http: httpx.AsyncClient, count: int, method: str = "GET") -> Counter[str]:
    names: Counter[str] = Counter()
    for _ in range(count):
        response = await http.request(method, "/api/v1/alpha/x", content=b"{}")
        assert response.status_code == 200, response.text
        names[response.json()["replica"]] += 1
    return names


async def test_requests_spread_over_the_replicas(
    make_settings: Callable[..., Settings], replicas: tuple[ReplicaServer, ReplicaServer]
) -> None:
    one, two = replicas
    async with api_client(_gateway(make_settings(), _upstream(one.url, two.url))) as http:
        # Neither busy: in turn.
        assert await _names(http, 10) == {"one": 5, "two": 5}
        together = await asyncio.gather(*(http.get("/api/v1/alpha/x") for _ in range(20)))
        assert {response.json()["replica"] for response in together} == {"one", "two"}
        # One request held by a replica: the others go to the one with none in flight.
        held = asyncio.create_task(http.get("/api/v1/alpha/held"))
        while "held" not in one.seen + two.seen:
            await asyncio.sleep(0.005)
        holder = "one" if "held" in one.seen else "two"
        assert holder not in await _names(http, 4)
        one.gate.set()
        two.gate.set()
        assert (await held).json() == {"replica": holder}


async def test_a_stopped_replica_fails_no_request_and_gets_traffic_when_back(
    make_settings: Callable[..., Settings], replicas: tuple[ReplicaServer, ReplicaServer]
) -> None:
    one, two = replicas
    alpha = _upstream(one.url, two.url)
    async with api_client(_gateway(make_settings(), alpha)) as http:
        await _names(http, 4)  # keep-alive connections to both in the pool
        await two.stop()
        # GETs on its pooled connections, or refused at connect, are answered by the other.
        assert await _names(http, 6) == {"one": 6}
        assert [replica.live for replica in alpha.replicas.replicas] == [True, False]
        assert await _names(http, 4, "POST") == {"one": 4}
        assert await _names(http, 2, "PATCH") == {"one": 2}

        await two.start()
        deadline = time.monotonic() + 5
        while not alpha.replicas.replicas[1].live:
            assert time.monotonic() < deadline, "the replica was not put back"
            await asyncio.sleep(0.01)
        assert await _names(http, 4) == {"one": 2, "two": 2}


async def test_a_passing_ready_puts_a_replica_back_before_its_back_off_ends(
    make_settings: Callable[..., Settings], replicas: tuple[ReplicaServer, ReplicaServer]
) -> None:
    one, two = replicas
    alpha = HttpUpstream("alpha", [one.url, two.url], replica_backoff=60)
    async with api_client(_gateway(make_settings(), alpha)) as http:
        await two.stop()
        assert await _names(http, 4) == {"one": 4}
        assert not alpha.replicas.replicas[1].live
        await two.start()
        assert (await http.get("/ready")).status_code == 200
        assert alpha.replicas.replicas[1].live
        assert await _names(http, 2) == {"one": 1, "two": 1}


async def test_a_post_whose_body_was_sent_is_not_retried(
    make_settings: Callable[..., Settings], replicas: tuple[ReplicaServer, ReplicaServer]
) -> None:
    """The dropping replica reads the whole request, then closes without an answer."""
    one, _two = replicas
    dropped: list[bytes] = []

    async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            dropped.append(head.split(b" ", 1)[0])
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async with (
        raw_server(drop) as dropper,
        api_client(_gateway(make_settings(), _upstream(dropper, one.url))) as http,
    ):
        statuses = [
            (await http.post("/api/v1/alpha/x", content=b"once")).status_code for _ in range(4)
        ]
        assert dropped.count(b"POST") == statuses.count(502) >= 1
        assert one.seen.count("POST") == statuses.count(200) == 4 - statuses.count(502)
        # An idempotent request the replica dropped is answered by the other one.
        assert await _names(http, 4) == {"one": 4}
        assert dropped.count(b"GET") >= 1


@pytest.mark.parametrize("streamed", [False, True])
async def test_a_post_refused_at_connect_is_retried(
    make_settings: Callable[..., Settings],
    replicas: tuple[ReplicaServer, ReplicaServer],
    streamed: bool,
) -> None:
    one, _two = replicas
    closed = f"http://127.0.0.1:{free_port()}"
    alpha = _upstream(closed, one.url)
    body = b"x" * 300_000

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 50_000):
            yield body[start : start + 50_000]

    async with api_client(_gateway(make_settings(), alpha)) as http:
        # The closed replica is first in turn: the first request meets its refusal.
        response = await http.post("/api/v1/alpha/x", content=chunks() if streamed else body)
        assert response.status_code == 200
        assert response.json() == {"replica": "one", "size": len(body)}
        assert [replica.live for replica in alpha.replicas.replicas] == [False, True]
        assert one.seen == ["POST"]


async def test_every_replica_down_is_a_502_and_ready_tells_which(
    make_settings: Callable[..., Settings], replicas: tuple[ReplicaServer, ReplicaServer]
) -> None:
    one, _two = replicas
    closed = [f"http://127.0.0.1:{free_port()}" for _ in range(2)]
    gateway = _gateway(make_settings(metrics_public=True), _upstream(*closed))
    async with api_client(gateway) as http:
        started = time.monotonic()
        response = await http.get("/api/v1/alpha/x")
        assert time.monotonic() - started < 3
        assert response.status_code == 502
        assert response.json() == {"detail": "alpha service unavailable"}
    mixed = _gateway(make_settings(metrics_public=True), _upstream(closed[0], one.url))
    async with api_client(mixed) as http:
        ready = await http.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["services"]["alpha"]["replicas"] == {closed[0]: "down", one.url: "up"}


async def test_a_single_url_still_works(
    make_settings: Callable[..., Settings],
    replicas: tuple[ReplicaServer, ReplicaServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    one, two = replicas
    monkeypatch.setenv("BANDSTAND_SERVICE_URLS__MUSIC", one.url + "/")
    monkeypatch.setenv("BANDSTAND_SERVICE_URLS__WEB", f'["{one.url}/", "{two.url}"]')
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.service_replicas("music") == [one.url]
    assert settings.service_url("music") == one.url
    assert settings.service_replicas("web") == [one.url, two.url]
    assert settings.service_url("web") == one.url
    assert settings.service_replicas("concerts") == []
    assert settings.service_url("concerts") is None

    gateway = _gateway(make_settings(metrics_public=True), HttpUpstream("alpha", one.url))
    async with api_client(gateway) as http:
        assert await _names(http, 3) == {"one": 3}
        ready = (await http.get("/ready")).json()
    assert ready["services"]["alpha"] == {"status": "up", "checks": {}}


async def test_the_deep_health_check_probes_every_replica(
    make_settings: Callable[..., Settings], replicas: tuple[ReplicaServer, ReplicaServer]
) -> None:
    one, _two = replicas
    closed = f"http://127.0.0.1:{free_port()}"
    settings = make_settings(service_urls={"music": [closed, one.url], "concerts": closed})
    readiness = await registry.distributed_runtime(settings).services.readiness()
    music = readiness["music"]
    assert music.ready
    assert music.body["replicas"][one.url] == 200
    assert music.body["replicas"][closed].startswith("unreachable")
    assert not readiness["concerts"].ready
