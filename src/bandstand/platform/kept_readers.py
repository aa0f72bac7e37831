"""The connections that a PostgreSQL engine's plain reads keep between them
(`plain_reads.engine_reader`).

A page read outside a transaction takes an asyncpg connection for itself. Checked out of the
engine's pool and given back for each read, it cost the event loop about 50 µs (SQLAlchemy's
checkout through a greenlet, its events, the reset on return): as much as the read itself on a
page of 20 songs. Here reads give their connection back to the engine's `KeptReaders`, which
keeps up to `KEPT` of them checked out, and a read takes the one given back last: a steady
stream of reads goes through the same few connections and not through the pool.

A kept connection goes back to the pool when a request is about to wait for one there
(`fair_pool.FairAsyncPool.lend_to`: the pool's other users come first), when it has not been
used for `PING_AFTER_IDLE_SECONDS` (the pool checks such a connection before handing it out),
and when the engine is disposed. A read that fails invalidates its connection, as one checked
out of the pool would; the caller reads again the usual way, which replaces what the server
dropped.
"""

from __future__ import annotations

import time
import weakref

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection

from bandstand.platform.database import PING_AFTER_IDLE_SECONDS
from bandstand.platform.fair_pool import FairAsyncPool

KEPT = 4


class KeptReaders:
    """An engine's connections kept for plain reads, the latest given back on top."""

    def __init__(self, engine: Engine) -> None:
        # Nothing of the engine is held: it keys the registry of these weakly.
        self._idle: list[tuple[PoolProxiedConnection, float]] = []
        event.listen(engine, "engine_disposed", self._disposed)

    @classmethod
    def of(cls, engine: AsyncEngine) -> KeptReaders:
        """The engine's own (made on first use)."""
        kept = _KEPT.get(engine.sync_engine)
        if kept is None:
            kept = _KEPT[engine.sync_engine] = cls(engine.sync_engine)
        return kept

    async def take(self, engine: AsyncEngine) -> PoolProxiedConnection:
        """A kept connection used lately, or one checked out of the engine's pool."""
        now = time.monotonic()
        while self._idle:
            connection, since = self._idle.pop()
            if now - since <= PING_AFTER_IDLE_SECONDS:
                return connection
            connection.close()  # back to the pool, which checks it before its next use
        return await engine.raw_connection()

    def give_back(self, engine: AsyncEngine, connection: PoolProxiedConnection) -> None:
        pool = engine.sync_engine.pool
        if not isinstance(pool, FairAsyncPool) or pool.has_waiters() or len(self._idle) >= KEPT:
            connection.close()
            return
        pool.lend_to(self.release)
        self._idle.append((connection, time.monotonic()))

    def release(self) -> None:
        """Give every kept connection back to the pool."""
        idle, self._idle = self._idle, []
        for connection, _ in idle:
            connection.close()

    def _disposed(self, _engine: Engine) -> None:
        # The pool they came from is gone: closed, not given back to it (where they would stay
        # open). `AsyncEngine.dispose` runs this where the driver can be awaited.
        idle, self._idle = self._idle, []
        for connection, _ in idle:
            connection.invalidate()


_KEPT: weakref.WeakKeyDictionary[Engine, KeptReaders] = weakref.WeakKeyDictionary()
