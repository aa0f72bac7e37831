"""Orders without an Idempotency-Key are placed by group commit.

Every order placed while the previous batch was being written joins the next: one transaction
stores all their rows and their `billing.order.created` messages, then each request gets its
202. Each order's row and message are still written in one transaction, before its 202; what
changes is that a busy service writes a few hundred orders per transaction instead of one.
Orders with a key are placed one by one (`OrderService.place`): their conflicts are per order.
"""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.billing import events
from bandstand.billing.models import Order
from bandstand.billing.repository import OrderRepository
from bandstand.platform.database import Database
from bandstand.platform.group_commit import GroupCommit, grouped_unit_of_work

MAX_BATCH = 500
"""Orders per transaction at most (two multi-row inserts of this many rows stay small)."""


class OrderIntake:
    def __init__(self, database: Database, repository: OrderRepository | None = None) -> None:
        self._repository = repository or OrderRepository()
        self._group: GroupCommit[Order, Order] = grouped_unit_of_work(
            database, self._write, max_size=MAX_BATCH, name="billing-intake"
        )

    async def place(self, order: Order) -> Order:
        """Store `order` (pending) and its message; returns once they are committed."""
        return await self._group.submit(order)

    async def _write(self, session: AsyncSession, orders: list[Order]) -> list[Order]:
        await self._repository.add_many(session, orders)
        await events.orders_created(session, orders)
        return orders


def intake_of(request: Request) -> OrderIntake:
    intake: OrderIntake = request.app.state.order_intake
    return intake
