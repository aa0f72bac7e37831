"""SQLite writers take turns on the event loop instead of in SQLite's busy handler.

SQLite lets one transaction write at a time. Without this, a transaction that wants to write
while another holds the lock sleeps in SQLite's busy handler with growing back-offs (up to
100 ms a try), so concurrent writers are served out of order and a few wait seconds. Here the
first writing statement of a transaction waits for its turn on an `asyncio.Lock` instead
(first come, first served, no polling), and the turn passes on when the connection goes back
to the pool, after its commit or rollback.

A task must not write through a second connection while its first one holds the turn: it
would wait for itself. The kernel never does (one session per request or message).
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.util.concurrency import await_, in_greenlet

from bandstand.platform.sqlite_driver import is_read

_HOLDS_TURN = "bandstand_holds_write_turn"


class SQLiteWriterQueue:
    def __init__(self, engine: AsyncEngine) -> None:
        self._turn = asyncio.Lock()
        sync_engine = engine.sync_engine
        event.listen(sync_engine, "before_cursor_execute", self._before_execute)
        event.listen(sync_engine.pool, "checkin", self._checkin)

    def _before_execute(self, connection: Connection, *args: Any) -> None:
        statement: str = args[1]
        info = connection.connection.info
        if info.get(_HOLDS_TURN) or is_read(statement):
            return
        if not in_greenlet():  # only the async engine's calls can wait on the event loop
            return
        await_(self._turn.acquire())
        info[_HOLDS_TURN] = True

    def _checkin(self, _dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        if record.info.pop(_HOLDS_TURN, False):
            self._turn.release()
