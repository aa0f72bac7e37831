"""A replica that drains (SIGTERM) is left by the gateway at its first answer, losing nothing."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable

import httpx
from fastapi import FastAPI

from bandstand.gateway.app import create_gateway_app
from bandstand.gateway.proxy import HttpUpstream
from bandstand.gateway.upstream import Upstream
from bandstand.platform.draining import DRAINING_HEADER, Drain, DrainingMiddleware
from bandstand.platform.settings import Settings
from tests.gateway.upstreams import ROUTES
from tests.support.client import api_client
from tests.support.uvicorn_thread import uvicorn_in_thread


def _replica(name: str, drain: Drain) -> DrainingMiddleware:
    app = FastAPI()

    @app.get("/ready")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    @app.api_route("/api/v1/alpha/{rest:path}", methods=["GET", "POST"])
    async def answer() -> dict[str, str]:
        return {"replica": name}

    return DrainingMiddleware(app, drain)


async def test_a_draining_replica_is_left_at_its_first_answer(
    make_settings: Callable[..., Settings],
) -> None:
    drains = {"one": Drain(), "two": Drain()}
    with (
        uvicorn_in_thread(_replica("one", drains["one"])) as one,
        uvicorn_in_thread(_replica("two", drains["two"])) as two,
    ):
        alpha = HttpUpstream("alpha", [one, two], replica_backoff=0.05, replica_max_backoff=0.1)
        upstreams: dict[str, Upstream] = {"alpha": alpha}
        gateway = create_gateway_app(ROUTES, upstreams, make_settings(), access_log=False)
        async with api_client(gateway) as http:

            async def names(count: int, method: str = "GET") -> Counter[str]:
                seen: Counter[str] = Counter()
                for _ in range(count):
                    response = await http.request(method, "/api/v1/alpha/x")
                    assert response.status_code == 200, response.text
                    assert DRAINING_HEADER.decode() not in response.headers
                    seen[response.json()["replica"]] += 1
                return seen

            assert await names(4) == {"one": 2, "two": 2}
            drains["one"].begin()
            # At most one more request reaches it (answered in full); then none.
            assert (await names(8, "POST"))["one"] <= 1
            assert await names(6) == {"two": 6}
            assert [replica.live for replica in alpha.replicas.replicas] == [False, True]
            ready = (await http.get("/ready")).json()
            assert ready["status"] == "ready"  # the service is: its other replica is

            drains["one"].since = None  # restarted
            await _until_live(alpha, 0)
            assert await names(4) == {"one": 2, "two": 2}


async def _until_live(upstream: HttpUpstream, index: int) -> None:
    deadline = time.monotonic() + 5
    while not upstream.replicas.replicas[index].live:
        assert time.monotonic() < deadline, "the replica was not put back"
        await asyncio.sleep(0.02)


async def test_ready_says_503_while_draining_and_responses_close_their_connection() -> None:
    drain = Drain()
    with uvicorn_in_thread(_replica("one", drain)) as url:
        async with httpx.AsyncClient(base_url=url) as http:
            assert (await http.get("/ready")).status_code == 200
            answer = await http.get("/api/v1/alpha/x")
            assert "connection" not in answer.headers
            drain.begin()
            ready = await http.get("/ready")
            assert ready.status_code == 503
            assert ready.json()["status"] == "draining"
            answer = await http.get("/api/v1/alpha/x")
            assert answer.status_code == 200, "a draining replica still serves"
            assert answer.headers["connection"] == "close"
            assert answer.headers[DRAINING_HEADER.decode()] == "1"
