"""What the worker does with orders, in one transaction of the billing database per batch.

The effect is keyed on the order id: the order rows are locked, only `pending` ones change, and
the change is conditional on `pending` again, so a message delivered twice, or to two workers at
once, completes its order once and publishes one `billing.order.completed`.

Messages that arrive together are processed together: one transaction, one statement for the
updates and one for the events of the whole batch.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.billing import events
from bandstand.billing.models import COMPLETED, FAILED, PENDING, BillableOrder
from bandstand.billing.repository import OrderRepository
from bandstand.billing.rules import OrderRejected, check_order
from bandstand.platform.clock import utcnow
from bandstand.platform.database import Database
from bandstand.platform.messaging import Message, publish_events

logger = logging.getLogger("bandstand.billing.worker")


class OrderMissing(LookupError):
    """The message names an order the database does not have (yet): retried, then dead."""


@dataclass(frozen=True)
class WorkItem:
    order_id: uuid.UUID
    message: Message


Outcome = str | None | OrderMissing
"""The new status of the order, None when it was not pending any more, or why it failed."""


def _same_order(payload: dict[str, Any], order: BillableOrder) -> bool:
    try:
        amount = Decimal(str(payload.get("total_amount")))
    except InvalidOperation:
        return False
    return (
        payload.get("user_id") == order.user_id
        and payload.get("number_of_items") == order.number_of_items
        and amount == order.total_amount
        and payload.get("currency") == order.currency
    )


def decide(order: BillableOrder, message: Message) -> None:
    """Apply the rules to a pending order: completed with its tax lines, or failed with why."""
    order.processed_at = utcnow()
    try:
        if not _same_order(message.payload, order):
            raise OrderRejected("the message does not match the stored order")
        lines = check_order(order.number_of_items, order.total_amount, order.currency)
    except OrderRejected as exc:
        order.status, order.failure_reason = FAILED, str(exc)
        return
    order.status = COMPLETED
    order.tax_rate = lines.rate
    order.net_amount, order.tax_amount = lines.net_amount, lines.tax_amount


class OrderProcessor:
    def __init__(self, database: Database, repository: OrderRepository | None = None) -> None:
        self.database = database
        self.repository = repository or OrderRepository()

    async def process(self, session: AsyncSession, items: Sequence[WorkItem]) -> list[Outcome]:
        """Bill each item's order in the transaction of `session`; the outcome of each."""
        outcomes: list[Outcome] = []
        orders = await self.repository.lock_many(session, {i.order_id for i in items})
        finished: list[BillableOrder] = []
        for item in items:
            order = orders.get(item.order_id)
            if order is None:
                outcomes.append(OrderMissing(f"order {item.order_id} does not exist"))
            elif order.status != PENDING:
                # Already billed (a redelivery, or a duplicate in this very batch).
                outcomes.append(None)
            else:
                decide(order, item.message)
                finished.append(order)
                outcomes.append(order.status)
        await self.repository.finish_many(session, finished)
        await publish_events(
            session,
            [events.outcome_event(order) for order in finished],
            source=events.SOURCE,
        )
        return outcomes
