"""Billing's migration builds, on a brand-new database of each engine, exactly the schema its
models declare, and its constraints hold."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bandstand.billing.models import BillingBase, Order
from bandstand.platform.database import Database
from bandstand.platform.migrations import upgrade
from tests.billing.conftest import MIGRATIONS
from tests.support.schema import schema_differences


async def test_migrations_match_the_models(database_urls: Callable[[str], str]) -> None:
    database = Database(database_urls("billing"))
    try:
        await upgrade(database, "billing", MIGRATIONS)
        await upgrade(database, "billing", MIGRATIONS)  # a second run is a no-op
        async with database.engine.connect() as connection:
            differences = await connection.run_sync(schema_differences(BillingBase.metadata))
            tables = await connection.run_sync(lambda c: sorted(sa.inspect(c).get_table_names()))
    finally:
        await database.dispose()
    assert differences == []
    assert tables == ["alembic_version_billing", "orders", "outbox", "processed_messages"]


@pytest.mark.postgres
@pytest.mark.timeout(60)
async def test_replicas_migrating_at_once_take_turns(
    postgres_url_factory: Callable[[str], str],
) -> None:
    """Four processes starting together on a new database: one migrates, the others wait for
    its lock and find nothing to do (without the lock, some would fail creating the tables)."""
    url = postgres_url_factory("billing")
    databases = [Database(url) for _ in range(4)]
    try:
        await asyncio.gather(*(upgrade(db, "billing", MIGRATIONS) for db in databases))
        async with databases[0].engine.connect() as connection:
            differences = await connection.run_sync(schema_differences(BillingBase.metadata))
    finally:
        for database in databases:
            await database.dispose()
    assert differences == []


def _order(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "user_id": 2,
        "number_of_items": 1,
        "total_amount": Decimal("1.00"),
        "currency": "EUR",
        "status": "pending",
        "idempotency_key": None,
    }
    return values | changes


@pytest.mark.parametrize(
    "changes", [{"number_of_items": 0}, {"total_amount": Decimal("-0.01")}, {"status": "shipped"}]
)
async def test_constraints_refuse_impossible_orders(
    database_urls: Callable[[str], str], changes: dict[str, Any]
) -> None:
    database = Database(database_urls("billing"))
    try:
        await upgrade(database, "billing", MIGRATIONS)
        with pytest.raises(IntegrityError):
            async with database.session() as session, session.begin():
                await session.execute(sa.insert(Order), _order(**changes))
    finally:
        await database.dispose()


async def test_one_order_per_user_and_idempotency_key(database_urls: Callable[[str], str]) -> None:
    database = Database(database_urls("billing"))
    try:
        await upgrade(database, "billing", MIGRATIONS)
        async with database.session() as session, session.begin():
            await session.execute(sa.insert(Order), _order(idempotency_key="k"))
            await session.execute(sa.insert(Order), _order(user_id=3, idempotency_key="k"))
            await session.execute(sa.insert(Order), [_order(), _order()])  # no key: no limit
        with pytest.raises(IntegrityError):
            async with database.session() as session, session.begin():
                await session.execute(sa.insert(Order), _order(idempotency_key="k"))
    finally:
        await database.dispose()
