"""Events the billing service publishes, all through the outbox in the business transaction.

`billing.order.created` is both the event other services may follow and the worker's work item:
`billing_queue` is bound to it on the events exchange, so one outbox row per order does both. Its
payload is the order as JSON (the streaming platform's queue carried the order as JSON too).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.billing.models import FAILED, BillableOrder, Order
from bandstand.platform.messaging import publish_events

SOURCE = "billing"
ORDER_CREATED = "billing.order.created"
ORDER_COMPLETED = "billing.order.completed"
ORDER_FAILED = "billing.order.failed"

BILLING_QUEUE = "billing_queue"
"""The durable work queue of the billing worker (its dead-letter queue: `billing_queue.dlq`)."""
QUEUES = {BILLING_QUEUE: (ORDER_CREATED,)}
"""The queues that must exist before the service publishes, with their bindings."""


def _money(amount: object) -> str:
    return f"{amount:.2f}"


def order_document(order: Order) -> dict[str, Any]:
    created = order.created_at if order.created_at.tzinfo else order.created_at.replace(tzinfo=UTC)
    return {
        "order_id": str(order.id),
        "user_id": order.user_id,
        "number_of_items": order.number_of_items,
        "total_amount": _money(order.total_amount),
        "currency": order.currency,
        "status": order.status,
        "created_at": created.astimezone(UTC).isoformat().replace("+00:00", "Z"),
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
    return ORDER_COMPLETED, {
        "order_id": str(order.id),
        "user_id": order.user_id,
        "number_of_items": order.number_of_items,
        "total_amount": _money(order.total_amount),
        "currency": order.currency,
        "net_amount": _money(order.net_amount),
        "tax_amount": _money(order.tax_amount),
        "processed_at": order.processed_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "actor_id": order.created_by,
    }
