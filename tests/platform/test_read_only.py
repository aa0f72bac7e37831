"""A session that only read ends without a commit; one that wrote anything, whichever way the
statement came, commits as before."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import Column, Integer, String, Table, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import registry

from bandstand.platform.after_commit import after_commit
from bandstand.platform.database import Database, new_metadata
from bandstand.platform.plain_reads import plain_rows
from bandstand.platform.read_only import wrote_nothing
from tests.platform.test_service_app import client  # noqa: F401  (fixture)

metadata = new_metadata()
items = Table(
    "items", metadata, Column("id", Integer, primary_key=True), Column("name", String(20))
)


@pytest.fixture
async def database(database_urls: Callable[[str], str]) -> AsyncIterator[Database]:
    database = Database(database_urls("readonly"))
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield database
    await database.dispose()


async def test_reads_alone_leave_nothing_to_commit(database: Database) -> None:
    async with database.session() as session:
        await session.execute(select(items))
        await plain_rows(session, select(items.c.id))
        assert session.in_transaction()
        assert wrote_nothing(session)


@pytest.mark.parametrize(
    "write",
    ["orm", "core on the connection", "undeclared text", "pending object", "after-commit work"],
)
async def test_any_write_leaves_something_to_commit(database: Database, write: str) -> None:
    async with database.session() as session:
        await session.execute(select(items))
        if write == "orm":
            await session.execute(insert(items).values(name="a"))
        elif write == "core on the connection":
            await (await session.connection()).execute(insert(items).values(name="b"))
        elif write == "undeclared text":
            await session.execute(text("INSERT INTO items (name) VALUES ('c')"))
        elif write == "pending object":
            item = _Item()
            item.name = "d"
            session.add(item)
        else:
            after_commit(session, lambda: None)
        assert not wrote_nothing(session)


async def test_a_connection_forgets_its_writes_once_back_in_the_pool(database: Database) -> None:
    async with database.session() as session:
        await session.execute(text("INSERT INTO items (name) VALUES ('e')"))
        await session.commit()
        await session.execute(select(items))
        assert wrote_nothing(session)
        assert (await session.execute(select(items.c.name))).scalars().all() == ["e"]


async def test_a_read_request_is_not_committed_and_a_write_is(
    client: httpx.AsyncClient,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    commits: list[Any] = []
    real = AsyncSession.commit

    async def counted(self: AsyncSession) -> None:
        commits.append(self)
        await real(self)

    monkeypatch.setattr(AsyncSession, "commit", counted)
    assert (await client.get("/api/v1/notes")).status_code == 200
    assert commits == []
    assert (await client.post("/api/v1/notes", json={"text": "kept"})).status_code == 201
    assert len(commits) == 1
    listed = (await client.get("/api/v1/notes")).json()
    assert [note["text"] for note in listed["results"]] == ["kept"]


class _Item:
    name: str


registry().map_imperatively(_Item, items)
