"""The connections that a PostgreSQL engine's plain reads keep between them
(`plain_reads.engine_reader`).

A page read outside a transaction takes an asyncpg connection for itself. Checked out of the
engine's pool and given back for each read, it cost the event loop about 50 µs (SQLAlchemy's
checkout through a greenlet, its events, the reset on return): as much as the read itself on a
page of 20 songs. Here reads give their connection back to the engine's `KeptReaders`, which
keeps up to as many of them checked out as the pool keeps (its size), and a read takes the one
given back last: a steady stream of reads goes through the same connections and not through the
pool.

Under load, while that many connections are in reads, the next read waits here for the first of
them given back, handed over directly, rather than in the pool: there, each read beyond the
pool's size paid the checkout and the return again (32 concurrent signed-in song pages of the
demo's size, in-process: 382 → 323 µs of the loop a page with four kept, 295 → 274 with the
pool's eight). A read that waited `WAIT_SECONDS` goes to the pool.

A kept connection goes back to the pool when a request is about to wait for one there
(`fair_pool.FairAsyncPool.lend_to`: the pool's other users come first), when it has not been
used for `PING_AFTER_IDLE_SECONDS` (the pool checks such a connection before handing it out),
and when the engine is disposed. A read that fails invalidates its connection, as one checked
out of the pool would; the caller reads again the usual way, which replaces what the server
dropped.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import deque

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import Pool, PoolProxiedConnection
from sqlalchemy.util.concurrency import greenlet_spawn

from bandstand.platform.database import PING_AFTER_IDLE_SECONDS
from bandstand.platform.fair_pool import FairAsyncPool

WAIT_SECONDS = 1.0
"""How long a read waits for a kept connection before it asks the pool."""


class KeptReaders:
    """An engine's connections kept for plain reads, the latest given back on top."""

    def __init__(self, engine: Engine) -> None:
        # Nothing of the engine is held: it keys the registry of these weakly.
        self._idle: list[tuple[PoolProxiedConnection, float]] = []
        self._owned = 0
        """Connections checked out of the pool through here: idle, or in a read."""
        self._waiters: deque[asyncio.Future[PoolProxiedConnection | None]] = deque()
        size = getattr(engine.pool, "size", None)
        self._most = size() if callable(size) else 1
        """How many reads keep: as many as the pool keeps (they give them back before anyone
        waits there)."""
        event.listen(engine, "engine_disposed", self._disposed)

    @classmethod
    def of(cls, engine: AsyncEngine) -> KeptReaders:
        """The engine's own (made on first use)."""
        kept = _KEPT.get(engine.sync_engine)
        if kept is None:
            kept = _KEPT[engine.sync_engine] = cls(engine.sync_engine)
        return kept

    async def take(self, engine: AsyncEngine) -> PoolProxiedConnection:
        """A kept connection used lately; while as many as are kept are in reads, the next one
        a read gives back; otherwise one checked out of the engine's pool."""
        now = time.monotonic()
        while self._idle:
            connection, since = self._idle.pop()
            if now - since <= PING_AFTER_IDLE_SECONDS:
                return connection
            # Back to the pool, which checks it before its next use.
            await self._leave(connection, engine.sync_engine.pool)
        if self._owned >= self._most and isinstance(engine.sync_engine.pool, FairAsyncPool):
            handed = await self._wait()
            if handed is not None:
                return handed
        try:
            connection = await engine.raw_connection()
        except BaseException:
            self._hand_over(None)  # a read waiting here tries the pool in turn
            raise
        self._owned += 1
        return connection

    async def give_back(self, engine: AsyncEngine, connection: PoolProxiedConnection) -> None:
        pool = engine.sync_engine.pool
        if not isinstance(pool, FairAsyncPool) or pool.has_waiters():
            await self._leave(connection, pool)
            return
        if self._hand_over(connection):
            return
        if len(self._idle) >= self._most:
            await self._leave(connection, pool)
            return
        pool.lend_to(self.release)
        self._idle.append((connection, time.monotonic()))

    async def discard(self, engine: AsyncEngine, connection: PoolProxiedConnection) -> None:
        """`connection` failed in a read: invalidated (the pool replaces it) and not kept."""
        connection.invalidate()
        await self._leave(connection, engine.sync_engine.pool)

    def release(self) -> None:
        """Give every kept connection back to the pool (called by the pool, in a greenlet)."""
        idle, self._idle = self._idle, []
        for connection, _ in idle:
            self._return(connection)

    async def _wait(self) -> PoolProxiedConnection | None:
        """The connection the next read gives back; None when one of the kept left for the
        pool instead, or after `WAIT_SECONDS` (the read then takes its turn at the pool, whose
        own timeout applies)."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[PoolProxiedConnection | None] = loop.create_future()
        self._waiters.append(waiter)
        timer = loop.call_later(WAIT_SECONDS, _resolve, waiter)
        try:
            return await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                handed = waiter.result()  # what it was handed is the next read's
                if not self._hand_over(handed) and handed is not None:
                    self._idle.append((handed, time.monotonic()))
            raise
        finally:
            timer.cancel()

    def _hand_over(self, connection: PoolProxiedConnection | None) -> bool:
        """`connection` to the first read waiting, or (None) that read to the pool; False when
        no read waits."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return True
        return False

    async def _leave(self, connection: PoolProxiedConnection, pool: Pool) -> None:
        if isinstance(pool, FairAsyncPool) and pool.takes_back_without_closing():
            # Nothing to await: a plain read began no transaction, so there is none to roll back.
            self._return(connection)
        else:
            # In a greenlet: a connection opened beyond the pool's size finds no room there
            # when the pool's own are idle, and the pool closes it, which awaits the driver.
            await greenlet_spawn(self._return, connection)

    def _return(self, connection: PoolProxiedConnection) -> None:
        try:
            connection.close()
        finally:  # counted out even when a cancellation cuts its closing short
            self._owned -= 1
            self._hand_over(None)

    def _disposed(self, _engine: Engine) -> None:
        # The pool they came from is gone: closed, not given back to it (where they would stay
        # open). `AsyncEngine.dispose` runs this where the driver can be awaited.
        idle, self._idle = self._idle, []
        for connection, _ in idle:
            connection.invalidate()
        self._owned -= len(idle)
        while self._hand_over(None):
            pass


def _resolve(waiter: asyncio.Future[PoolProxiedConnection | None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


_KEPT: weakref.WeakKeyDictionary[Engine, KeptReaders] = weakref.WeakKeyDictionary()
