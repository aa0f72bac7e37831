"""Work that follows a commit: waking the outbox relay, dropping a cached answer the transaction
made stale, any other callback.

It is driven by the session's own events, so no caller runs it by hand. Whatever commits a
session of a `Database` (a request's transaction, a consumer, a batch, group commit, the worker,
a command) runs it right after the commit, inside `commit()`: before the response is sent or the
message acknowledged. A rollback, or a session closed without committing, drops it. Work that
fails is logged and does not undo the commit.

Done after the commit, not before it: a reader between the change and its commit would
otherwise put the old answer back into a cache, or the relay would look before the row is there.

Two ways to ask for it:
- `after_commit(session, callback)`: once the transaction of `session` commits;
- `Database.after_commit_of(table, callback)`: after every committed transaction that wrote
  `table` (or, with None, any table), which the session learns from its statements and flushes
  (`record_write` for a textual statement). This is how a new outbox row wakes the relay, and how
  a service's writes move its write generation (`platform.write_generation`).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy import inspect as inspect_instance
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction
from sqlalchemy.util import await_only

logger = logging.getLogger("bandstand.after_commit")

AfterCommit = Callable[[], Awaitable[None] | None]
"""A callback: a plain function, or one returning an awaitable that is awaited."""

WRITES_OPTION = "bandstand_writes"
"""Execution option of a textual statement: the `(table, operation)` it writes."""

OPERATIONS = frozenset({"insert", "update", "delete"})

_PENDING = "bandstand_after_commit"
_WRITTEN = "bandstand_written"
WATCHES = "bandstand_commit_watches"
"""Key of the session info holding its database's `CommitWatch` list."""


@dataclass(frozen=True)
class CommitWatch:
    """Run `callback` after each committed transaction that did one of `operations` on `table`
    (None: on any table but those in `ignored`)."""

    table: str | None
    callback: AfterCommit
    operations: frozenset[str] = OPERATIONS
    ignored: frozenset[str] = frozenset()

    def matches(self, written: set[tuple[str, str]]) -> bool:
        return any(
            operation in self.operations
            and (table == self.table or (self.table is None and table not in self.ignored))
            for table, operation in written
        )


class WatchedSession(Session):
    """The session class behind every `Database` session: the events below listen on it."""


def after_commit(
    session: AsyncSession | Session, callback: AfterCommit, *, key: str | None = None
) -> None:
    """Run `callback` once the transaction of `session` commits; a second callback with the same
    `key` in the same transaction is not added."""
    pending: dict[str, AfterCommit] = session.info.setdefault(_PENDING, {})
    pending.setdefault(key or f"callback-{len(pending)}", callback)


def record_write(session: AsyncSession | Session, table: str, operation: str) -> None:
    """Note that the transaction of `session` wrote `table` (found by itself for SQLAlchemy
    statements and flushes; a textual statement says so with `WRITES_OPTION`)."""
    session.info.setdefault(_WRITTEN, set()).add((table, operation))


def has_pending_work(session: Session) -> bool:
    """Whether a commit of `session` has callbacks to run or writes to announce."""
    return bool(session.info.get(_PENDING) or session.info.get(_WRITTEN))


def writes(table: str, operation: str) -> dict[str, Any]:
    """The execution options by which a textual statement says what it writes."""
    return {WRITES_OPTION: (table, operation)}


@event.listens_for(WatchedSession, "do_orm_execute")
def _record_statement(state: ORMExecuteState) -> None:
    statement: Any = state.statement
    if state.is_insert or state.is_update or state.is_delete:
        operation = "insert" if state.is_insert else "update" if state.is_update else "delete"
        record_write(state.session, statement.table.name, operation)
        return
    declared = state.execution_options.get(WRITES_OPTION)
    if declared is not None:
        record_write(state.session, *declared)


@event.listens_for(WatchedSession, "after_flush")
def _record_flush(session: Session, _flush: UOWTransaction) -> None:
    # After a flush these collections still hold what the flush wrote.
    changes = (
        ("insert", session.new),
        ("update", (obj for obj in session.dirty if session.is_modified(obj))),
        ("delete", session.deleted),
    )
    for operation, objects in changes:
        for obj in objects:
            for table in inspect_instance(obj).mapper.tables:
                record_write(session, table.name, operation)


@event.listens_for(WatchedSession, "after_commit")
def _run_after_commit(session: Session) -> None:
    pending: dict[str, AfterCommit] = session.info.pop(_PENDING, {})
    written: set[tuple[str, str]] = session.info.pop(_WRITTEN, set())
    due = list(pending.items())
    if written:
        watches: Collection[CommitWatch] = session.info.get(WATCHES, ())
        for watch in watches:
            if watch.matches(written):
                due.append((f"{watch.table or 'any table'} written", watch.callback))
    for name, callback in due:
        try:
            result = callback()
            if inspect.isawaitable(result):
                # Commits run inside SQLAlchemy's greenlet: this awaits on the event loop.
                await_only(result)
        except Exception:
            logger.exception("after-commit callback %s failed", name)


@event.listens_for(WatchedSession, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended without a commit
        session.info.pop(_PENDING, None)
        session.info.pop(_WRITTEN, None)
