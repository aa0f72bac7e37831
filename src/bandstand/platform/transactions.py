"""The request-scoped database session: one per request, committed once at its end.

Services take the session as an argument and never commit. `TransactionMiddleware` commits
just before the response starts when the status is below 400 and rolls back otherwise, so a
client never sees a success whose data was not stored. This is the request's unit of work: like
`Database.unit_of_work`, its after-commit work (`platform.after_commit`) runs with the commit,
before the response.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bandstand.platform.asgi import send_json
from bandstand.platform.database import Database
from bandstand.platform.errors import COMMIT_DESPITE_ERROR, UNAVAILABLE_DETAIL, is_unavailable
from bandstand.platform.read_only import wrote_nothing

logger = logging.getLogger("bandstand.transactions")

_SESSION_KEY = "bandstand_db_session"


async def get_session(request: Request) -> AsyncSession:
    """FastAPI dependency: the session of this request, opened on first use."""
    state: dict[str, Any] = request.scope.setdefault("state", {})
    session = state.get(_SESSION_KEY)
    if session is None:
        database: Database = request.app.state.database
        session = database.session()
        state[_SESSION_KEY] = session
    assert isinstance(session, AsyncSession)
    return session


DBSession = Annotated[AsyncSession, Depends(get_session)]


class TransactionMiddleware:
    """Commit or roll back the request's session before the response is sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        finished = False

        async def send_after_commit(message: Message) -> None:
            nonlocal finished
            if message["type"] == "http.response.start" and not finished:
                finished = True
                state = scope.get("state") or {}
                commit = message["status"] < 400 or bool(state.get(COMMIT_DESPITE_ERROR))
                failure = await _finish(scope, commit)
                if failure is not None:
                    await send_json(send, failure[0], {"detail": failure[1]})
                    raise _ResponseReplaced
            await send(message)

        try:
            await self.app(scope, receive, send_after_commit)
        except _ResponseReplaced:
            pass
        finally:
            if not finished:
                await _finish(scope, commit=False)
            await _close(scope)


class _ResponseReplaced(Exception):
    """The commit failed and an error response was sent instead of the app's."""


async def _finish(scope: Scope, commit: bool) -> tuple[int, str] | None:
    state = scope.get("state") or {}
    session: AsyncSession | None = state.get(_SESSION_KEY)
    if session is None:
        return None
    if not commit:
        await _rollback_quietly(session)
        return None
    if wrote_nothing(session):
        return None  # closing the session ends its reads
    try:
        await session.commit()
    except IntegrityError as exc:
        logger.warning("commit conflicted: %s", exc)
        await _rollback_quietly(session)
        return 409, "Conflicts with an existing record"
    except Exception as exc:
        await _rollback_quietly(session)
        if is_unavailable(exc):
            logger.warning("commit failed, database unavailable: %s", exc)
            return 503, UNAVAILABLE_DETAIL
        logger.error("commit failed", exc_info=exc)
        return 500, "Internal server error"
    return None


async def _rollback_quietly(session: AsyncSession) -> None:
    try:
        await session.rollback()
    except Exception as exc:  # the connection may already be gone
        logger.debug("rollback failed: %s", exc)


async def _close(scope: Scope) -> None:
    state = scope.get("state") or {}
    session: AsyncSession | None = state.pop(_SESSION_KEY, None)
    if session is not None and _holds_anything(session):
        try:
            await session.close()
        except Exception as exc:
            logger.debug("closing the session failed: %s", exc)


def _holds_anything(session: AsyncSession) -> bool:
    """Whether closing `session` has anything to end: a transaction (and its connection) or
    objects. A request that read through its own connections (`platform.json_pages`) or did
    not touch its session leaves one that holds nothing, and closing it is skipped."""
    sync = session.sync_session
    return session.in_transaction() or bool(sync.identity_map) or bool(sync.new)
