"""The request's session is ended after the response: one that began a transaction is closed
and its connection goes back to the pool; one that holds nothing is left alone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.platform.database import Database
from bandstand.platform.errors import install_error_handlers
from bandstand.platform.transactions import DBSession, TransactionMiddleware
from tests.support.client import api_client


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[FastAPI]:
    app = FastAPI()
    app.state.database = Database(f"sqlite+aiosqlite:///{tmp_path / 'sessions.sqlite3'}")
    install_error_handlers(app)
    app.add_middleware(TransactionMiddleware)

    @app.get("/untouched")
    async def untouched(session: DBSession) -> dict[str, bool]:
        return {"in_transaction": session.in_transaction()}

    @app.get("/read")
    async def read(session: DBSession) -> dict[str, int]:
        return {"one": (await session.execute(text("SELECT 1"))).scalar_one()}

    yield app
    await app.state.database.dispose()


@pytest.fixture
def closed(monkeypatch: pytest.MonkeyPatch) -> list[AsyncSession]:
    sessions: list[AsyncSession] = []
    close = AsyncSession.close

    async def counting(self: AsyncSession) -> Any:
        sessions.append(self)
        return await close(self)

    monkeypatch.setattr(AsyncSession, "close", counting)
    return sessions


async def _get(app: FastAPI, path: str) -> httpx.Response:
    async with api_client(app) as client:
        response = await client.get(path)
    assert response.status_code == 200
    return response


async def test_a_session_that_read_is_closed_and_its_connection_returned(
    app: FastAPI, closed: list[AsyncSession]
) -> None:
    assert (await _get(app, "/read")).json() == {"one": 1}
    assert len(closed) == 1
    assert app.state.database.engine.sync_engine.pool.checkedout() == 0


async def test_a_session_that_holds_nothing_is_not_closed(
    app: FastAPI, closed: list[AsyncSession]
) -> None:
    assert (await _get(app, "/untouched")).json() == {"in_transaction": False}
    assert closed == []
    assert app.state.database.engine.sync_engine.pool.checkedout() == 0
