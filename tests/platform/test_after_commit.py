"""After-commit callbacks: run once the request's transaction commits, before the response is
sent; dropped when it rolls back; one per key; a failing one is logged and changes no answer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from bandstand.platform.after_commit import after_commit
from bandstand.platform.database import Database
from bandstand.platform.errors import NotFound, install_error_handlers
from bandstand.platform.transactions import DBSession, TransactionMiddleware
from tests.support.client import api_client


@pytest.fixture
async def calls(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, list[str]]]:
    ran: list[str] = []
    app = FastAPI()
    app.state.database = Database(f"sqlite+aiosqlite:///{tmp_path / 'after.sqlite3'}")
    install_error_handlers(app)
    app.add_middleware(TransactionMiddleware)

    def note(name: str) -> Callable[[], Awaitable[None]]:
        async def callback() -> None:
            ran.append(name)

        return callback

    async def boom() -> None:
        raise RuntimeError("the cache is gone")

    @app.post("/ok")
    async def ok(session: DBSession) -> dict[str, list[str]]:
        after_commit(session, note("drop"), key="drop")
        after_commit(session, note("drop again"), key="drop")  # the same key: once
        after_commit(session, boom)
        after_commit(session, note("other"))
        return {"ran_before_commit": list(ran)}

    @app.post("/refused")
    async def refused(session: DBSession) -> None:
        after_commit(session, note("never"))
        raise NotFound("nothing here")

    async with api_client(app, raise_app_exceptions=False) as client:
        yield client, ran
    await app.state.database.dispose()


async def test_callbacks_run_after_the_commit_once_per_key(
    calls: tuple[httpx.AsyncClient, list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    client, ran = calls
    response = await client.post("/ok")
    assert response.status_code == 200
    assert response.json() == {"ran_before_commit": []}
    assert ran == ["drop", "other"]
    assert "after-commit callback" in caplog.text


async def test_a_rolled_back_request_runs_none(calls: tuple[httpx.AsyncClient, list[str]]) -> None:
    client, ran = calls
    assert (await client.post("/refused")).status_code == 404
    assert ran == []
    assert (await client.post("/ok")).status_code == 200
    assert ran == ["drop", "other"]  # nothing of the refused request was kept for later
