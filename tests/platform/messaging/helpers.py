"""Helpers of the messaging tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bandstand.platform.messaging import Broker, Delivery, Message, RetryPolicy

FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.05)


def event(type: str = "identity.user.registered", **payload: object) -> Message:
    return Message.new(type, dict(payload), "tests")


async def eventually(
    check: Callable[[], Awaitable[bool]], *, timeout: float = 30.0, interval: float = 0.02
) -> None:
    """Wait until `check()` is true; fail after `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(interval)


async def next_delivery(broker: Broker, queue: str, *, timeout: float = 10.0) -> Delivery:
    """The next message of `queue`, waiting out a back-off."""
    async with asyncio.timeout(timeout):
        while (delivery := await broker.get(queue)) is None:
            await asyncio.sleep(0.01)
    return delivery
