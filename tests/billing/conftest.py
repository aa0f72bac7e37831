"""Billing's test fixtures: the service harness with tokens for an admin and two users, helpers
to look at what was stored, and the billing worker running beside the app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import bandstand.billing
from bandstand.billing.app import create_app
from bandstand.billing.models import BillingBase, Order
from bandstand.billing.worker import BillingWorker
from bandstand.platform.messaging.outbox import outbox_table
from bandstand.platform.settings import Settings
from tests.support.harness import Headers, ServiceHarness

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


class Billing(ServiceHarness):
    """The running billing app, its database, and tokens for an admin and two users."""

    name = "billing"
    app_factory = create_app
    migrations = MIGRATIONS
    metadata = BillingBase.metadata
    users = {"admin": (ADMIN_ID, "admin"), "alice": (ALICE_ID, "user"), "bob": (BOB_ID, "user")}
    admin: Headers
    alice: Headers
    bob: Headers

    async def orders(self) -> list[Order]:
        async with self.database.session() as session:
            statement = select(Order).order_by(Order.created_at, Order.id)
            return list((await session.execute(statement)).scalars().all())

    async def order_count(self) -> int:
        return await self.count(Order)

    async def outbox_rows(self) -> int:
        return await self.count(outbox_table)


billing_database_url, billing, client = Billing.fixtures(settings=False)


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
    """The billing worker running in this process beside the app, on the same broker; its events
    go out through the app's outbox relay (one relay per database in a process)."""
    relay = billing.app.state.outbox_relay
    cache = billing.app.state.runtime.cache  # the platform cache, as Redis is shared
    async with RunningWorker(BillingWorker(worker_settings, relay=relay, cache=cache)) as running:
        yield running
