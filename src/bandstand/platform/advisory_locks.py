"""PostgreSQL advisory locks by name: what one replica at a time may do (a migration, a job)."""

from __future__ import annotations

import hashlib

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


def advisory_lock_key(name: str) -> int:
    """A stable signed 64-bit key for the lock called `name`, the same in every process."""
    digest = hashlib.sha256(name.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def hold_until_commit(connection: AsyncConnection, name: str) -> None:
    """Wait for the lock `name` and hold it until this connection's transaction ends;
    a no-op on any other database than PostgreSQL (SQLite serves one process)."""
    if connection.dialect.name == "postgresql":
        await connection.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": advisory_lock_key(name)}
        )
