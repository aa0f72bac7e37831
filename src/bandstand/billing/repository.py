"""Every query the billing service runs."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.billing.models import PENDING, BillableOrder, Order
from bandstand.platform.after_commit import writes
from bandstand.platform.bulk import insert_rows, one_of
from bandstand.platform.pagination import kept_statements

LISTED: tuple[Any, ...] = (
    Order.id,
    Order.user_id,
    Order.number_of_items,
    Order.total_amount,
    Order.currency,
    Order.status,
    Order.created_at,
    Order.processed_at,
    Order.failure_reason,
    Order.tax_rate,
    Order.net_amount,
    Order.tax_amount,
)
"""A listed order's columns: `OrderRead`'s fields, read as plain rows."""


@dataclass(frozen=True)
class OrderFilters:
    user_id: int | None = None
    status: str | None = None


@kept_statements
def _order_listing(filters: OrderFilters) -> Select[Any]:
    statement = select(*LISTED)
    if filters.user_id is not None:
        statement = statement.where(Order.user_id == filters.user_id)
    if filters.status is not None:
        statement = statement.where(Order.status == filters.status)
    return statement.order_by(Order.created_at.desc(), Order.id.desc())


class OrderRepository:
    async def get(
        self, session: AsyncSession, order_id: uuid.UUID, *, lock: bool = False
    ) -> Order | None:
        statement = (
            select(Order).where(Order.id == order_id).execution_options(populate_existing=True)
        )
        if lock:
            statement = statement.with_for_update()
        return (await session.execute(statement)).scalars().first()

    async def by_idempotency_key(
        self, session: AsyncSession, user_id: int, key: str
    ) -> Order | None:
        statement = select(Order).where(Order.user_id == user_id, Order.idempotency_key == key)
        return (await session.execute(statement)).scalars().first()

    async def add(self, session: AsyncSession, order: Order) -> bool:
        """Insert `order`; False when its (user, Idempotency-Key) is taken (nothing inserted).

        One statement without a savepoint: a concurrent request with the same key waits for the
        other to commit, then finds the conflict.
        """
        values = {column.key: getattr(order, column.key) for column in Order.__table__.columns}
        if order.idempotency_key is None:
            # Values as parameters: the compiled statement is cached, not rebuilt per order.
            await session.execute(insert(Order), values)
            return True
        build = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert
        statement = (
            build(Order)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["user_id", "idempotency_key"])
            .returning(Order.id)
        )
        return (await session.execute(statement)).first() is not None

    async def add_many(self, session: AsyncSession, orders: Collection[Order]) -> None:
        """Insert orders without Idempotency-Keys, in one statement.

        A Core insert of the table: the ORM's bulk path costs more than the statement here, and
        the orders are not in the session anyway."""
        table = cast(Table, Order.__table__)
        keys = table.columns.keys()
        await insert_rows(
            session, table, [{key: order.__dict__.get(key) for key in keys} for order in orders]
        )

    def listing(self, filters: OrderFilters) -> Select[Any]:
        """The orders the filters keep, newest first, as plain rows of `LISTED`."""
        return _order_listing(filters)

    async def lock_many(
        self, session: AsyncSession, order_ids: Collection[uuid.UUID]
    ) -> dict[uuid.UUID, BillableOrder]:
        """The orders among `order_ids`, locked for this transaction (in id order: no deadlock
        between two workers locking overlapping sets)."""
        table = cast(Table, Order.__table__)
        columns = [table.c[name] for name in _BILLABLE_COLUMNS]
        statement = (
            select(*columns)
            .where(one_of(session, table.c.id, order_ids))
            .order_by(table.c.id)
            .with_for_update()
        )
        rows = (await session.execute(statement)).all()
        return {row.id: BillableOrder(*row) for row in rows}

    async def finish_many(self, session: AsyncSession, orders: Collection[BillableOrder]) -> None:
        """Store the outcome of each order (status, processed_at, reason, tax lines) if it is
        still pending: one statement for all of them (on PostgreSQL one execution too, the
        values passed as arrays)."""
        if not orders:
            return
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(_FINISH_FROM_ARRAYS, _outcome_arrays(orders))
            return
        table = cast(Table, Order.__table__)
        statement = (
            update(table)
            .where(table.c.id == bindparam("b_id"), table.c.status == PENDING)
            .values(
                status=bindparam("b_status"),
                processed_at=bindparam("b_processed_at"),
                failure_reason=bindparam("b_failure_reason"),
                tax_rate=bindparam("b_tax_rate"),
                net_amount=bindparam("b_net_amount"),
                tax_amount=bindparam("b_tax_amount"),
            )
        )
        await session.execute(
            statement,
            [
                {
                    "b_id": order.id,
                    "b_status": order.status,
                    "b_processed_at": order.processed_at,
                    "b_failure_reason": order.failure_reason,
                    "b_tax_rate": order.tax_rate,
                    "b_net_amount": order.net_amount,
                    "b_tax_amount": order.tax_amount,
                }
                for order in orders
            ],
        )

    async def count_by_status(self, session: AsyncSession) -> dict[str, int]:
        statement = select(Order.status, func.count()).group_by(Order.status)
        return {str(status): int(count) for status, count in await session.execute(statement)}


_BILLABLE_COLUMNS = (
    "id",
    "user_id",
    "number_of_items",
    "total_amount",
    "currency",
    "status",
    "created_by",
)
"""What `BillableOrder` is read from, in the order of its fields."""

_OUTCOME_COLUMNS = (
    "status",
    "processed_at",
    "failure_reason",
    "tax_rate",
    "net_amount",
    "tax_amount",
)

_FINISH_FROM_ARRAYS = text(
    """
    UPDATE orders SET
        status = outcome.status,
        processed_at = outcome.processed_at,
        failure_reason = outcome.failure_reason,
        tax_rate = outcome.tax_rate,
        net_amount = outcome.net_amount,
        tax_amount = outcome.tax_amount
    FROM unnest(
        CAST(:id AS uuid[]), CAST(:status AS varchar[]), CAST(:processed_at AS timestamptz[]),
        CAST(:failure_reason AS text[]), CAST(:tax_rate AS numeric[]),
        CAST(:net_amount AS numeric[]), CAST(:tax_amount AS numeric[])
    ) AS outcome(id, status, processed_at, failure_reason, tax_rate, net_amount, tax_amount)
    WHERE orders.id = outcome.id AND orders.status = 'pending'
        -- Also as a key list, so the orders are found by their index, not a join over them all.
        AND orders.id = ANY(CAST(:id AS uuid[]))
    """
).execution_options(**writes("orders", "update"))  # moves the write generation, as `update` does


def _outcome_arrays(orders: Collection[BillableOrder]) -> dict[str, list[object]]:
    arrays: dict[str, list[object]] = {"id": [order.id for order in orders]}
    for column in _OUTCOME_COLUMNS:
        arrays[column] = [getattr(order, column) for order in orders]
    return arrays
