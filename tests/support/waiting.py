"""Waiting for something to happen, for tests: poll a condition instead of sleeping."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

_T = TypeVar("_T")


async def eventually(
    check: Callable[[], Awaitable[_T]], timeout: float = 30.0, interval: float = 0.02
) -> _T:
    """Await `check()` until it returns something truthy, and return that; fail after
    `timeout` seconds with the last answer."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"not true within {timeout} s: last {result!r}")
        await asyncio.sleep(interval)


async def next_second() -> None:
    """Wait until the wall clock enters its next whole second. Token `iat` claims and revocation
    markers have whole seconds, so what is signed after this is strictly later than before."""
    current = int(time.time())
    while int(time.time()) == current:
        await asyncio.sleep(0.01)
