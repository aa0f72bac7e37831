"""Admin's test fixtures: an empty migrated database per test on each engine, the app with its
lifespan running, tokens signed as identity signs them, and helpers to feed it events and look
at what it stored."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

import bandstand.admin
from bandstand.admin.app import create_app
from bandstand.admin.events import AUDIT_QUEUE, record_events
from bandstand.admin.models import AdminBase, AuditEntry, Setting
from bandstand.platform.database import Database
from bandstand.platform.messaging import Broker, Message
from bandstand.platform.runtime import Runtime
from bandstand.platform.settings import Settings
from tests.support.client import api_client
from tests.support.databases import MigratedDatabases
from tests.support.outbox import outbox_events
from tests.support.tokens import TokenFactory

MIGRATIONS = Path(bandstand.admin.__file__).parent / "migrations"
ADMIN_ID = 1
ALICE_ID = 2


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.02)


def event(
    type_: str,
    payload: dict[str, Any] | None = None,
    *,
    at: datetime | None = None,
    source: str | None = None,
) -> Message:
    """An event as a service publishes it, optionally dated."""
    message = Message.new(type_, dict(payload or {}), source or type_.split(".")[0])
    if at is None:
        return message
    return Message(message.id, message.type, at, message.payload, message.source)


class Admin:
    """The running admin app, its database, and tokens for an admin and a user."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient, tokens: TokenFactory) -> None:
        self.app = app
        self.client = client
        self.tokens = tokens
        self.admin = tokens.headers(user_id=ADMIN_ID, role="admin")
        self.alice = tokens.headers(user_id=ALICE_ID)

    @property
    def database(self) -> Database:
        database: Database = self.app.state.database
        return database

    @property
    def broker(self) -> Broker:
        broker: Broker = self.app.state.runtime.broker
        return broker

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    async def record(self, messages: Sequence[Message]) -> None:
        """Hand events to the audit consumer's handler directly (no broker), in one batch."""
        async with self.database.session() as session, session.begin():
            await record_events(session, messages)

    async def subscribed(self) -> None:
        async with asyncio.timeout(10):
            await self.app.state.subscriptions.wait_subscribed()

    async def consumed(self) -> bool:
        return await self.broker.queue_depth(AUDIT_QUEUE) == 0

    async def entry_count(self) -> int:
        async with self.database.session() as session:
            statement = select(func.count()).select_from(AuditEntry)
            return int((await session.execute(statement)).scalar_one())

    async def entries(self) -> list[AuditEntry]:
        async with self.database.session() as session:
            statement = select(AuditEntry).order_by(AuditEntry.id)
            return list((await session.execute(statement)).scalars())

    async def settings_snapshot(self) -> list[tuple[str, str, str, bool]]:
        async with self.database.session() as session:
            rows = await session.execute(
                select(Setting.key, Setting.value, Setting.description, Setting.is_public).order_by(
                    Setting.key
                )
            )
            return [(str(k), str(v), str(d), bool(p)) for k, v, d, p in rows]

    async def outbox(self, prefix: str = "admin.") -> list[dict[str, Any]]:
        return await outbox_events(self.database, prefix)


@pytest.fixture
async def admin_database_url(
    engine: str, migrated_databases: MigratedDatabases, tmp_path: Path
) -> str:
    """An empty, migrated admin database on the engine under test."""
    return await migrated_databases.fresh(engine, "admin", MIGRATIONS, AdminBase.metadata, tmp_path)


@pytest.fixture
def admin_settings(make_settings: Callable[..., Settings], admin_database_url: str) -> Settings:
    return make_settings(databases={"admin": admin_database_url})


@pytest.fixture
def token_factory() -> TokenFactory:
    return TokenFactory()


@asynccontextmanager
async def running_admin(
    settings: Settings, tokens: TokenFactory, runtime: Runtime | None = None
) -> AsyncIterator[Admin]:
    app = create_app(runtime or Runtime(settings, jwks_fetch=tokens.jwks))
    async with api_client(app, raise_app_exceptions=False) as client:
        yield Admin(app, client, tokens)


@pytest.fixture
async def admin(admin_settings: Settings, token_factory: TokenFactory) -> AsyncIterator[Admin]:
    async with running_admin(admin_settings, token_factory) as harness:
        yield harness


@pytest.fixture
def client(admin: Admin) -> httpx.AsyncClient:
    return admin.client
