"""A connection pool that serves waiting requests in the order they asked.

SQLAlchemy's asyncio pool keeps its idle connections in an `asyncio.Queue` and takes one that is
there without waiting: a request that asks just after a connection came back takes it ahead of
those already waiting, and a woken waiter that finds the queue empty again goes to the back of
the line. Under load (more requests in flight than connections) a few requests waited for
seconds while the rest went through, until the pool's timeout answered them 503 (measured on
PostgreSQL, 32 signed-in song lists at once against 20 connections: p99 3.2 s and 503s).

Here a returned connection goes straight to the longest waiter; the idle queue is used only
when nobody waits, so nobody can overtake.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry
from sqlalchemy.util.concurrency import await_
from sqlalchemy.util.queue import AsyncAdaptedQueue, Empty

T = TypeVar("T")


class FairQueue(AsyncAdaptedQueue[T]):
    """Idle connections, handed to waiters first come, first served."""

    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        super().__init__(maxsize, use_lifo)
        self._waiters: deque[asyncio.Future[T]] = deque()
        self.lenders: list[Callable[[], None]] = []
        """Called before a request waits: each gives back the connections it keeps idle."""
        self.take_back: Callable[[T], None] = self.put_nowait
        """Takes a connection handed to a waiter cancelled before it could use it. The pool
        sets its own return here, which closes a connection beyond its size that finds no
        room (an idle connection may have come back meanwhile)."""

    def put_nowait(self, item: T) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(item)
                return
        super().put_nowait(item)

    def put(self, item: T, block: bool = True, timeout: float | None = None) -> None:
        self.put_nowait(item)

    def get(self, block: bool = True, timeout: float | None = None) -> T:
        if not block or not self.empty():
            return self.get_nowait()
        for lender in list(self.lenders):
            lender()
        if not self.empty():
            return self.get_nowait()
        waiter: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            result: T = await_(_wait(waiter, timeout))
        except BaseException:
            # Cancelled after a connection was handed over: passed on, or it is lost. Here, in
            # the caller's greenlet, the pool can close it.
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self.take_back(waiter.result())
            raise
        return result


async def _wait(waiter: asyncio.Future[T], seconds: float | None) -> T:
    expiry = None
    if seconds is not None:
        expiry = asyncio.get_running_loop().call_later(seconds, _expire, waiter)
    try:
        return await waiter
    finally:
        if expiry is not None:
            expiry.cancel()
        if not waiter.done():
            waiter.cancel()


def _expire(waiter: asyncio.Future[T]) -> None:
    if not waiter.done():
        waiter.set_exception(Empty())


class _IdleConnections(FairQueue[ConnectionPoolEntry]):
    pass


class FairAsyncPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio pool with `FairQueue` for its idle connections."""

    _queue_class = _IdleConnections

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._idle().take_back = self._do_return_conn

    def has_waiters(self) -> bool:
        """Whether a request waits for a connection now."""
        return any(not waiter.done() for waiter in self._idle()._waiters)

    def takes_back_without_closing(self) -> bool:
        """Whether a connection given back now goes to a waiter or to the idle ones, rather
        than being closed for want of room (which awaits the driver)."""
        return self.has_waiters() or not self._idle().full()  # type: ignore[no-untyped-call]

    def lend_to(self, release: Callable[[], None]) -> None:
        """Have `release` called (once registered, before every wait) to give back the
        connections its owner keeps checked out while idle (`platform.kept_readers`)."""
        lenders = self._idle().lenders
        if release not in lenders:
            lenders.append(release)

    def _idle(self) -> FairQueue[ConnectionPoolEntry]:
        idle: FairQueue[ConnectionPoolEntry] = self._pool  # type: ignore[assignment]
        return idle
