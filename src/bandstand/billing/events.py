"""Events the billing service publishes, all through the outbox in the business transaction.

`billing.order.created` is both the event other services may follow and the worker's work item:
`billing_queue` is bound to it on the events exchange, so one outbox row per order does both. Its
payload is the order as JSON (the streaming platform's queue carried the order as JSON too).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.billing.models import FAILED, BillableOrder, Order
from bandstand.platform.messaging import Message, publish_events
from bandstand.platform.schemas import iso_utc, money_text

SOURCE = "billing"
ORDER_CREATED = "billing.order.created"
ORDER_COMPLETED = "billing.order.completed"
ORDER_FAILED = "billing.order.failed"

BILLING_QUEUE = "billing_queue"
"""The durable work queue of the billing worker (its dead-letter queue: `billing_queue.dlq`)."""
QUEUES = {BILLING_QUEUE: (ORDER_CREATED,)}
"""The queues that must exist before the service publishes, with their bindings."""


def order_id_of(message: Message) -> uuid.UUID | None:
    """The order a `billing.order.created` message names, or None when it names none."""
    value = message.payload.get("order_id")
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def order_document(order: Order) -> dict[str, Any]:
    return {
        "order_id": str(order.id),
        "user_id": order.user_id,
        "number_of_items": order.number_of_items,
        "total_amount": money_text(order.total_amount),
        "currency": order.currency,
        "status": order.status,
        "created_at": iso_utc(order.created_at),
    }


async def orders_created(session: AsyncSession, orders: Sequence[Order]) -> None:
    """`billing.order.created` of each order; its actor is whoever placed it."""
    created = [
        (ORDER_CREATED, {**order_document(order), "actor_id": order.created_by}) for order in orders
    ]
    await publish_events(session, created, source=SOURCE)


def outcome_event(order: BillableOrder) -> tuple[str, dict[str, Any]]:
    """The event of a processed order: `billing.order.completed` or `billing.order.failed`."""
    if order.status == FAILED:
        return ORDER_FAILED, {
            "order_id": str(order.id),
            "user_id": order.user_id,
            "failure_reason": order.failure_reason,
        }
    assert order.processed_at is not None
    assert order.net_amount is not None
    assert order.tax_amount is not None
    return ORDER_COMPLETED, {
        "order_id": str(order.id),
        "user_id": order.user_id,
        "number_of_items": order.number_of_items,
        "total_amount": money_text(order.total_amount),
        "currency": order.currency,
        "net_amount": money_text(order.net_amount),
        "tax_amount": money_text(order.tax_amount),
        "processed_at": iso_utc(order.processed_at),
        "actor_id": order.created_by,
    }
