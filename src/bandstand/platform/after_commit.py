"""Work to do once a session's transaction has committed, such as dropping a cached answer that
the transaction made stale.

Done after the commit, not before it: a reader between the change and its commit would otherwise
put the old answer back into the cache. The request transaction (`TransactionMiddleware`) and the
event consumers (`handle_idempotently`) run the callbacks after a successful commit, before the
response is sent or the message acknowledged; a rollback drops them. A callback that fails is
logged and does not undo the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

logger = logging.getLogger("bandstand.after_commit")

AfterCommit = Callable[[], Awaitable[None]]
_KEY = "bandstand_after_commit"


def after_commit(session: AsyncSession, callback: AfterCommit, *, key: str | None = None) -> None:
    """Run `callback` once the transaction of `session` commits; a second callback with the same
    `key` in the same transaction replaces nothing and is not added."""
    pending: dict[str, AfterCommit] = session.info.setdefault(_KEY, {})
    pending.setdefault(key or f"callback-{len(pending)}", callback)


def discard_after_commit(session: AsyncSession) -> None:
    """Forget the callbacks of a transaction that rolled back."""
    session.info.pop(_KEY, None)


async def run_after_commit(session: AsyncSession) -> None:
    """Run (and forget) the callbacks registered on `session`; call right after its commit."""
    pending: dict[str, AfterCommit] = session.info.pop(_KEY, {})
    for name, callback in pending.items():
        try:
            await callback()
        except Exception:
            logger.exception("after-commit callback %s failed", name)
