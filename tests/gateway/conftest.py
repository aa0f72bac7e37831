"""The gateway's tests in distributed mode: the echoing upstream (`echo_service.py`) and a
gateway in front of it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from aiohttp import web

from bandstand.platform.settings import Settings
from tests.gateway.echo_service import GATE, RECEIVED, UPSTREAM_ROUTES, gateway_over_http
from tests.gateway.upstreams import aiohttp_server
from tests.support.client import api_client


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[str, web.Application]]:
    async with aiohttp_server(UPSTREAM_ROUTES, {GATE: asyncio.Event(), RECEIVED: []}) as server:
        yield server


@pytest.fixture
async def client(
    make_settings: Callable[..., Settings], upstream: tuple[str, web.Application]
) -> AsyncIterator[httpx.AsyncClient]:
    url, _app = upstream
    gateway = gateway_over_http(make_settings(), url, url, read_timeout=0.5)
    async with api_client(gateway, timeout=20) as http:
        yield http
