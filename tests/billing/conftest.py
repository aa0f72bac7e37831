"""Billing's test fixtures: an empty migrated database per test on each engine, the app with its
lifespan running, tokens signed as identity signs them, and helpers to look at what was stored."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

import bandstand.billing
from bandstand.billing.app import create_app
from bandstand.billing.models import BillingBase, Order
from bandstand.billing.worker import BillingWorker
from bandstand.platform.database import Database
from bandstand.platform.messaging.outbox import outbox_table
from bandstand.platform.runtime import Runtime
from bandstand.platform.settings import Settings
from tests.support.client import api_client
from tests.support.databases import MigratedDatabases
from tests.support.outbox import outbox_events
from tests.support.tokens import TokenFactory

MIGRATIONS = Path(bandstand.billing.__file__).parent / "migrations"
ADMIN_ID = 1
ALICE_ID = 2
BOB_ID = 3
ORDER = {"number_of_items": 3, "total_amount": 99.97}
LEGACY_ORDER = {"user_id": f"usr_{ALICE_ID}", "number_of_items": 3, "total_amount": 99.97}


def error_locations(body: dict[str, Any]) -> list[str]:
    """The field names a validation error body points at (FastAPI's list form)."""
    detail = body.get("detail")
    assert isinstance(detail, list), body
    return [str(part) for error in detail for part in error["loc"] if part != "body"]


class Billing:
    """The running billing app, its database, and tokens for an admin and two users."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient, tokens: TokenFactory) -> None:
        self.app = app
        self.client = client
        self.tokens = tokens
        self.admin = tokens.headers(user_id=ADMIN_ID, role="admin")
        self.alice = tokens.headers(user_id=ALICE_ID)
        self.bob = tokens.headers(user_id=BOB_ID)

    @property
    def database(self) -> Database:
        database: Database = self.app.state.database
        return database

    async def orders(self) -> list[Order]:
        async with self.database.session() as session:
            statement = select(Order).order_by(Order.created_at, Order.id)
            return list((await session.execute(statement)).scalars().all())

    async def order_count(self) -> int:
        async with self.database.session() as session:
            statement = select(func.count()).select_from(Order)
            return int((await session.execute(statement)).scalar_one())

    async def outbox(self, prefix: str = "billing.") -> list[dict[str, Any]]:
        messages = await outbox_events(self.database, prefix)
        assert all(message["source"] == "billing" for message in messages)
        return messages

    async def outbox_rows(self) -> int:
        async with self.database.session() as session:
            statement = select(func.count()).select_from(outbox_table)
            return int((await session.execute(statement)).scalar_one())


@pytest.fixture
async def billing_database_url(
    engine: str, migrated_databases: MigratedDatabases, tmp_path: Path
) -> str:
    """An empty, migrated billing database on the engine under test."""
    return await migrated_databases.fresh(
        engine, "billing", MIGRATIONS, BillingBase.metadata, tmp_path
    )


@pytest.fixture
def billing_broker_url() -> str | None:
    """The broker of the app and worker: None for the embedded one (override to change)."""
    return None


@pytest.fixture
def billing_settings(
    make_settings: Callable[..., Settings],
    billing_database_url: str,
    billing_broker_url: str | None,
) -> Settings:
    extra = {"broker_url": billing_broker_url} if billing_broker_url else {}
    return make_settings(databases={"billing": billing_database_url}, **extra)


@pytest.fixture
def token_factory() -> TokenFactory:
    return TokenFactory()


@asynccontextmanager
async def running_billing(settings: Settings, tokens: TokenFactory) -> AsyncIterator[Billing]:
    """The billing app on `settings`, its lifespan running, trusting `tokens`' key."""
    app = create_app(Runtime(settings, jwks_fetch=tokens.jwks))
    async with api_client(app, raise_app_exceptions=False) as client:
        yield Billing(app, client, tokens)


@pytest.fixture
async def billing(
    billing_settings: Settings, token_factory: TokenFactory
) -> AsyncIterator[Billing]:
    async with running_billing(billing_settings, token_factory) as harness:
        yield harness


@pytest.fixture
def client(billing: Billing) -> httpx.AsyncClient:
    return billing.client


async def eventually(
    check: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05
) -> Any:
    """Await `check()` until it returns something truthy; fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"not true within {timeout} s: last {result!r}")
        await asyncio.sleep(interval)


class RunningWorker:
    def __init__(self, worker: BillingWorker) -> None:
        self.worker = worker
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> BillingWorker:
        self.task = asyncio.create_task(self.worker.run(self.stop))
        async with asyncio.timeout(20):
            await self.worker.consuming.wait()
        return self.worker

    async def __aexit__(self, *_exc: object) -> None:
        self.stop.set()
        assert self.task is not None
        await self.task


@pytest.fixture
def worker_settings(billing_settings: Settings) -> Settings:
    """The billing settings with quick retries (0.05 s, doubling)."""
    return billing_settings.model_copy(update={"worker_retry_seconds": 0.05})


@pytest.fixture
async def worker(worker_settings: Settings, billing: Billing) -> AsyncIterator[BillingWorker]:
    """The billing worker running in this process beside the app, on the same broker."""
    async with RunningWorker(BillingWorker(worker_settings)) as running:
        yield running
