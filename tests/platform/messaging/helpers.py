"""Helpers of the messaging tests."""

from __future__ import annotations

import asyncio

from bandstand.platform.messaging import Broker, Delivery, Message, RetryPolicy

FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.05)


def event(type: str = "identity.user.registered", **payload: object) -> Message:
    return Message.new(type, dict(payload), "tests")


async def next_delivery(broker: Broker, queue: str, *, timeout: float = 10.0) -> Delivery:
    """The next message of `queue`, waiting out a back-off."""
    async with asyncio.timeout(timeout):
        while (delivery := await broker.get(queue)) is None:
            await asyncio.sleep(0.01)
    return delivery
