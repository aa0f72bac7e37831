"""PostgreSQL plans a page of a list without filters once per connection and every other
statement for its values (`platform.plan_modes`): the mode a read asks for is the one it runs
under, statements of the engine get their own back, a transaction keeps what it set."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import Column, Integer, String, Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from bandstand.platform.database import Database, new_metadata
from bandstand.platform.json_rows import JsonArray, JsonRows
from bandstand.platform.pagination import PageParams, paginate
from bandstand.platform.plain_reads import fetch_on_driver, plain_rows
from bandstand.platform.plan_modes import CUSTOM, GENERIC
from bandstand.platform.text_index import FREQUENT
from bandstand.platform.text_search import contains

pytestmark = pytest.mark.postgres

metadata = new_metadata()
bands = Table(
    "bands",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(40), nullable=False),
)
MODE = "SELECT current_setting('plan_cache_mode')"


class Band(BaseModel):
    id: int
    name: str


@pytest.fixture
async def database(postgres_url_factory: Callable[[str], str]) -> AsyncIterator[Database]:
    database = Database(postgres_url_factory("plan_modes"), pool_size=1)
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
        await connection.execute(insert(bands), [{"name": f"band {n}"} for n in range(1, 31)])
    yield database
    await database.dispose()


async def _driver(session: AsyncSession) -> Any:
    connection = (await session.connection()).sync_connection
    assert connection is not None
    return connection.connection.driver_connection


async def _mode_on_the_server(session: AsyncSession) -> str:
    """The connection's mode, asked without going through the engine (which sets its own)."""
    return str(await (await _driver(session)).fetchval(MODE))


async def _read_mode(session: AsyncSession, *, planned_once: bool) -> str:
    [row] = await fetch_on_driver(await _driver(session), MODE, [], planned_once=planned_once)
    return str(row[0])


async def test_a_read_runs_under_the_mode_it_asks_for(database: Database) -> None:
    async with database.session() as session:
        assert await _mode_on_the_server(session) == CUSTOM
        assert await _read_mode(session, planned_once=True) == GENERIC
        assert await _read_mode(session, planned_once=True) == GENERIC
        assert await _read_mode(session, planned_once=False) == CUSTOM
        assert await _mode_on_the_server(session) == CUSTOM


async def test_the_engine_statements_after_a_page_are_planned_for_their_values(
    database: Database,
) -> None:
    async with database.session() as session:
        await _read_mode(session, planned_once=True)
        assert (await session.execute(text(MODE))).scalar_one() == CUSTOM
        await session.rollback()  # the mode was set before the transaction began: it stays
        assert await _mode_on_the_server(session) == CUSTOM
    async with database.session() as session:
        await _read_mode(session, planned_once=True)
        rows = await plain_rows(session, select(func.current_setting("plan_cache_mode")))
        assert rows[0][0] == CUSTOM


async def test_in_a_transaction_a_page_keeps_the_connection_mode(database: Database) -> None:
    async with database.session() as session, session.begin():
        await session.execute(select(bands.c.id).limit(1))
        assert await _read_mode(session, planned_once=True) == CUSTOM
    async with database.session() as session:
        assert await _mode_on_the_server(session) == CUSTOM


async def test_a_transaction_on_a_generic_connection_plans_for_values_until_it_ends(
    database: Database,
) -> None:
    async with database.session() as session:
        await _read_mode(session, planned_once=True)
        driver = await _driver(session)
        async with driver.transaction():
            assert await _read_mode(session, planned_once=False) == CUSTOM
            assert await _read_mode(session, planned_once=False) == CUSTOM
        assert await _mode_on_the_server(session) == GENERIC
        assert await _read_mode(session, planned_once=True) == GENERIC


def _request() -> Request:
    app = SimpleNamespace(state=SimpleNamespace())
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/bands",
        "query_string": b"",
        "headers": [],
        "server": ("test", 80),
        "scheme": "http",
        "root_path": "",
        "app": app,
    }
    return Request(scope)


async def _page_mode(database: Database, *where: Any) -> tuple[str, list[int]]:
    statement = select(bands.c.id, bands.c.name).where(*where).order_by(bands.c.id)
    async with database.session() as session:
        page = await paginate(
            session,
            statement,
            PageParams(page=2, page_size=10),
            _request(),
            scalars=False,
            as_json=JsonRows.of(Band),
        )
        mode = await _mode_on_the_server(session)
    results = page["results"]
    assert isinstance(results, JsonArray)
    return mode, [item["id"] for item in json.loads(results)]


async def test_a_page_of_a_list_without_filters_is_planned_once(database: Database) -> None:
    mode, ids = await _page_mode(database)
    assert (mode, ids) == (GENERIC, list(range(11, 21)))


async def test_a_page_of_a_filtered_list_is_planned_for_its_values(database: Database) -> None:
    mode, ids = await _page_mode(database, bands.c.name.like("band 1%"))
    assert (mode, ids) == (CUSTOM, [19])  # band 1 and bands 10 to 19


async def test_a_page_of_a_search_walked_along_the_list_is_planned_once(
    database: Database,
) -> None:
    async with database.engine.begin() as connection:
        more = [{"name": f"band {n}"} for n in range(31, FREQUENT + 101)]
        await connection.execute(insert(bands), more)
    frequent = contains(bands.c.name, "band")  # type: ignore[arg-type]
    assert await _page_mode(database, frequent) == (GENERIC, list(range(11, 21)))
    rare = contains(bands.c.name, "band 11")  # type: ignore[arg-type]
    mode, ids = await _page_mode(database, rare)
    assert (mode, ids) == (CUSTOM, [119, 1100])  # bands 11, 110 to 119 and 1100


async def test_a_page_planned_once_is_never_compiled(database: Database) -> None:
    """A generic plan costs a page's limit as a tenth of the table: past `jit_above_cost` the
    server would compile it for each read. Connections have JIT off."""
    async with database.session() as session:
        assert (await session.execute(text("SELECT current_setting('jit')"))).scalar_one() == "off"
        await _read_mode(session, planned_once=True)
        rows = await plain_rows(session, select(func.current_setting("jit")))
        assert rows[0][0] == "off"
