"""One harness for the API tests of every service.

A service's tests subclass `ServiceHarness`, naming the service, its app factory, migrations and
models, and the users its tests act as; they add the helpers that are truly the service's own.
Its conftest then takes the standard fixtures from the class:

    class MusicHarness(ServiceHarness):
        name = "music"
        app_factory = create_app
        migrations = MIGRATIONS
        metadata = MusicBase.metadata
        users = {"admin": (ADMIN_ID, "admin"), "user": (USER_ID, "user")}

    music_database_url, music_settings, music, client = MusicHarness.fixtures()

which gives `<name>_database_url` (an empty migrated database on the engine under test),
`<name>_settings`, `<name>` (the app with its lifespan running, trusting the `tokens` fixture's
key) and `client`.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, ClassVar, Self

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import ColumnElement, MetaData, Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.platform.database import Database
from bandstand.platform.messaging import Broker
from bandstand.platform.runtime import Runtime
from bandstand.platform.settings import Settings
from tests.support.client import api_client
from tests.support.databases import MigratedDatabases
from tests.support.outbox import outbox_events
from tests.support.statements import recorded_statements
from tests.support.tokens import TokenFactory

Headers = dict[str, str]


class ServiceHarness:
    """A service's app with its lifespan running, an httpx client on it, tokens signed as
    identity signs them, and ways to look at what the service stored."""

    name: ClassVar[str]
    app_factory: ClassVar[Callable[..., FastAPI]]
    migrations: ClassVar[Path]
    metadata: ClassVar[MetaData]
    # attribute -> (user id, role): each becomes the headers of a token for that user.
    users: ClassVar[Mapping[str, tuple[int, str]]] = {}
    # Settings of every test of the service, beside its database.
    settings_overrides: ClassVar[Mapping[str, object]] = {}

    def __init__(self, app: FastAPI, client: httpx.AsyncClient, tokens: TokenFactory) -> None:
        self.app = app
        self.client = client
        self.tokens = tokens
        for attribute, (user_id, role) in self.users.items():
            setattr(self, attribute, tokens.headers(user_id=user_id, role=role))

    @classmethod
    @asynccontextmanager
    async def running(
        cls,
        settings: Settings,
        tokens: TokenFactory | None = None,
        *,
        runtime: Runtime | None = None,
        **options: Any,
    ) -> AsyncIterator[Self]:
        """The app on `settings` (or `runtime`), its lifespan running, trusting `tokens`' key;
        `options` go to the app factory."""
        tokens = tokens or TokenFactory()
        app = cls.app_factory(runtime or Runtime(settings, jwks_fetch=tokens.jwks), **options)
        async with api_client(app, raise_app_exceptions=False) as client:
            yield cls(app, client, tokens)

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    @property
    def database(self) -> Database:
        database: Database = self.app.state.database
        return database

    @property
    def broker(self) -> Broker:
        return self.runtime.broker

    def headers(self, user_id: int, role: str = "user") -> Headers:
        return self.tokens.headers(user_id=user_id, role=role)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction that commits on leaving the block."""
        async with self.database.session() as session, session.begin():
            yield session

    def table(self, model: Any) -> Table:
        """The table of a model, of a table, or of a table name of the service."""
        if isinstance(model, str):
            return self.metadata.tables[model]
        table: Table = getattr(model, "__table__", model)
        return table

    async def count(self, model: Any) -> int:
        """The number of rows of a model's table (or of a table, or of a table name)."""
        async with self.database.session() as session:
            statement = select(func.count()).select_from(self.table(model))
            return int((await session.execute(statement)).scalar_one())

    async def rows(self, model: Any, *order_by: ColumnElement[Any]) -> list[dict[str, Any]]:
        """Every row of a model's table as a dict of its columns, by primary key unless
        `order_by` says otherwise: for "nothing changed" assertions."""
        table = self.table(model)
        ordering = order_by or tuple(table.primary_key.columns) or tuple(table.columns)
        async with self.database.session() as session:
            result = await session.execute(select(*table.columns).order_by(*ordering))
            return [dict(row._mapping) for row in result]

    async def snapshot(self, *models: Any) -> dict[str, list[dict[str, Any]]]:
        """Every row of each table, by table name."""
        return {self.table(model).name: await self.rows(model) for model in models}

    async def outbox(self, prefix: str | None = None) -> list[dict[str, Any]]:
        """The decoded events in the outbox whose type starts with `prefix` (by default the
        service's own), oldest first, each checked to come from this service."""
        messages = await outbox_events(self.database, prefix or f"{self.name}.")
        assert all(message["source"] == self.name for message in messages), messages
        return messages

    async def event_types(self) -> list[str]:
        return [message["type"] for message in await self.outbox()]

    def statements(self) -> AbstractContextManager[list[str]]:
        """The SQL statements run inside the block (the outbox relay's polls left out)."""
        return recorded_statements(self.database)

    @classmethod
    async def database_url(
        cls, engine: str, migrated_databases: MigratedDatabases, directory: Path
    ) -> str:
        """An empty database of the service, migrated, on `engine`."""
        return await migrated_databases.fresh(
            engine, cls.name, cls.migrations, cls.metadata, directory
        )

    @classmethod
    def settings_for(cls, make_settings: Callable[..., Settings], database_url: str) -> Settings:
        return make_settings(databases={cls.name: database_url}, **cls.settings_overrides)

    @classmethod
    def fixtures(cls, *, settings: bool = True) -> tuple[Any, ...]:
        """`<name>_database_url`, `<name>_settings` (unless the conftest writes its own),
        `<name>` and `client`, to assign at the top level of the service's conftest."""
        name = cls.name

        async def database_url(**given: Any) -> str:
            return await cls.database_url(
                given["engine"], given["migrated_databases"], given["tmp_path"]
            )

        def service_settings(**given: Any) -> Settings:
            return cls.settings_for(given["make_settings"], given[f"{name}_database_url"])

        async def service(**given: Any) -> AsyncIterator[ServiceHarness]:
            async with cls.running(given[f"{name}_settings"], given["tokens"]) as harness:
                yield harness

        def client(**given: Any) -> httpx.AsyncClient:
            harness: ServiceHarness = given[name]
            return harness.client

        made = [
            _fixture(
                f"{name}_database_url", database_url, "engine", "migrated_databases", "tmp_path"
            )
        ]
        if settings:
            made.append(
                _fixture(
                    f"{name}_settings", service_settings, "make_settings", f"{name}_database_url"
                )
            )
        made.append(_fixture(name, service, f"{name}_settings", "tokens"))
        made.append(_fixture("client", client, name))
        return tuple(made)


def _fixture(name: str, function: Callable[..., Any], *needs: str) -> Any:
    """A pytest fixture called `name` that is handed the fixtures `needs` as keywords."""
    parameters = [inspect.Parameter(need, inspect.Parameter.KEYWORD_ONLY) for need in needs]
    function.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    function.__name__ = function.__qualname__ = name
    return pytest.fixture(name=name)(function)
