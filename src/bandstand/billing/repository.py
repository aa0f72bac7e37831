"""Every query the billing service runs."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Select, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.billing.models import PENDING, Order


@dataclass(frozen=True)
class OrderFilters:
    user_id: int | None = None
    status: str | None = None


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
            await session.execute(insert(Order).values(**values))
            return True
        build = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert
        statement = (
            build(Order)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["user_id", "idempotency_key"])
            .returning(Order.id)
        )
        return (await session.execute(statement)).first() is not None

    def listing(self, filters: OrderFilters) -> Select[Order]:
        statement = select(Order)
        if filters.user_id is not None:
            statement = statement.where(Order.user_id == filters.user_id)
        if filters.status is not None:
            statement = statement.where(Order.status == filters.status)
        return statement.order_by(Order.created_at.desc(), Order.id.desc())

    async def finish(
        self,
        session: AsyncSession,
        order_id: uuid.UUID,
        *,
        status: str,
        processed_at: datetime,
        failure_reason: str | None = None,
        tax_rate: Decimal | None = None,
        net_amount: Decimal | None = None,
        tax_amount: Decimal | None = None,
    ) -> bool:
        """Move a pending order to `status`; False when it was no longer pending."""
        result = await session.execute(
            update(Order)
            .where(Order.id == order_id, Order.status == PENDING)
            .values(
                status=status,
                processed_at=processed_at,
                failure_reason=failure_reason,
                tax_rate=tax_rate,
                net_amount=net_amount,
                tax_amount=tax_amount,
            )
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0) == 1

    async def count_redelivery(self, session: AsyncSession, order_id: uuid.UUID) -> int | None:
        """Add one to the order's redeliveries; the new count, or None without such an order."""
        result = await session.execute(
            update(Order)
            .where(Order.id == order_id)
            .values(redeliveries=Order.redeliveries + 1)
            .returning(Order.redeliveries)
            .execution_options(synchronize_session=False)
        )
        count = result.scalar_one_or_none()
        return None if count is None else int(count)

    async def reset_redeliveries(
        self, session: AsyncSession, order_ids: Collection[uuid.UUID]
    ) -> None:
        if order_ids:
            await session.execute(
                update(Order)
                .where(Order.id.in_(order_ids))
                .values(redeliveries=0)
                .execution_options(synchronize_session=False)
            )

    async def count_by_status(self, session: AsyncSession) -> dict[str, int]:
        statement = select(Order.status, func.count()).group_by(Order.status)
        return {str(status): int(count) for status, count in await session.execute(statement)}
