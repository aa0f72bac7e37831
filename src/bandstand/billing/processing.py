"""What the worker does with one order, in one transaction of the billing database.

The effect is keyed on the order id: only a `pending` order changes (a conditional update), so a
message delivered twice, or by two workers at once, completes the order once and publishes one
`billing.order.completed`.
"""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from bandstand.billing import events
from bandstand.billing.models import COMPLETED, FAILED, PENDING, Order, utcnow
from bandstand.billing.repository import OrderRepository
from bandstand.billing.rules import OrderRejected, check_order
from bandstand.platform.database import Database
from bandstand.platform.messaging import Message

logger = logging.getLogger("bandstand.billing.worker")


class OrderMissing(LookupError):
    """The message names an order the database does not have (yet): retried, then dead."""


def _same_order(payload: dict[str, Any], order: Order) -> bool:
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


class OrderProcessor:
    def __init__(self, database: Database, repository: OrderRepository | None = None) -> None:
        self.database = database
        self.repository = repository or OrderRepository()

    async def process(self, order_id: uuid.UUID, message: Message) -> str | None:
        """Complete or fail the order; its new status, or None when it was not pending."""
        async with self.database.session() as session, session.begin():
            order = await self.repository.get(session, order_id, lock=True)
            if order is None:
                raise OrderMissing(f"order {order_id} does not exist")
            if order.status != PENDING:
                logger.info("order %s is already %s: nothing to do", order_id, order.status)
                return None
            session.expunge(order)  # changes go through the conditional update only
            order.processed_at = utcnow()
            try:
                if not _same_order(message.payload, order):
                    raise OrderRejected("the message does not match the stored order")
                lines = check_order(order.number_of_items, order.total_amount, order.currency)
            except OrderRejected as exc:
                order.status, order.failure_reason = FAILED, str(exc)
                changed = await self.repository.finish(
                    session,
                    order_id,
                    status=FAILED,
                    processed_at=order.processed_at,
                    failure_reason=order.failure_reason,
                )
                if changed:
                    await events.order_failed(session, order)
            else:
                order.status = COMPLETED
                order.tax_rate = lines.rate
                order.net_amount, order.tax_amount = lines.net_amount, lines.tax_amount
                changed = await self.repository.finish(
                    session,
                    order_id,
                    status=COMPLETED,
                    processed_at=order.processed_at,
                    tax_rate=lines.rate,
                    net_amount=lines.net_amount,
                    tax_amount=lines.tax_amount,
                )
                if changed:
                    await events.order_completed(session, order)
            if not changed:
                return None
        self.database.notify_committed()
        return order.status

    async def count_redelivery(self, order_id: uuid.UUID) -> int:
        """Record that the order's message came back after a worker died with it; the count."""
        async with self.database.session() as session, session.begin():
            count = await self.repository.count_redelivery(session, order_id)
        return count or 0
