"""`DrainingServer`: a first SIGTERM drains for a while; a second one, or SIGINT, stops at once."""

from __future__ import annotations

import signal

import uvicorn

from bandstand.cli.server import DrainingServer
from bandstand.platform.draining import Drain


def _server(drain_seconds: float) -> DrainingServer:
    return DrainingServer(uvicorn.Config(app=None), Drain(), drain_seconds)


async def test_sigterm_drains_then_stops() -> None:
    server = _server(0.05)
    server.handle_exit(signal.SIGTERM, None)
    assert server.drain.active
    assert not server.should_exit
    assert not await server.on_tick(1)
    server._stop_at = 0.0  # the drain's time is up
    assert await server.on_tick(2)
    assert server.should_exit


async def test_a_second_sigterm_or_sigint_stops_at_once() -> None:
    for second in (signal.SIGTERM, signal.SIGINT):
        server = _server(60)
        server.handle_exit(signal.SIGTERM, None)
        server.handle_exit(second, None)
        assert server.should_exit


def test_without_a_drain_time_sigterm_stops_at_once() -> None:
    server = _server(0)
    server.handle_exit(signal.SIGTERM, None)
    assert not server.drain.active
    assert server.should_exit
