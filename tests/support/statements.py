"""Counting the SQL a service runs: for tests that hold the number of statements constant."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from bandstand.platform.database import Database


@contextmanager
def recorded_statements(database: Database) -> Iterator[list[str]]:
    """The SQL statements run on `database` inside the block, in order.

    The outbox relay's polls are left out: they run on their own schedule, not per request.
    """
    seen: list[str] = []

    def record(*args: Any) -> None:
        statement = str(args[2])
        if "outbox" not in statement:
            seen.append(statement)

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
