"""Running a consumer's handler on one delivery and settling the delivery by the outcome."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bandstand.platform.messaging.broker import Delivery, Handler
from bandstand.platform.observability import MESSAGES_HANDLED

logger = logging.getLogger(__name__)


async def dispatch(delivery: Delivery, handler: Handler) -> None:
    """Ack when `handler` returns, reject (retry or dead-letter) when it raises.

    A handler that settled the delivery itself is left alone. Failures to settle are logged: the
    broker delivers the message again, which idempotent handlers tolerate.
    """
    message = delivery.message
    try:
        await handler(delivery)
    except asyncio.CancelledError:
        if not delivery.settled:
            await _settle(delivery, delivery.release, "released")
        raise
    except Exception:
        logger.exception(
            "Handler failed for message %s (%s) from %s, attempt %d",
            message.id,
            message.type,
            delivery.queue,
            delivery.attempts,
        )
        if not delivery.settled:
            await _settle(delivery, delivery.reject, "rejected")
    else:
        if not delivery.settled:
            await _settle(delivery, delivery.ack, "acked")


async def _settle(delivery: Delivery, action: Callable[[], Awaitable[None]], outcome: str) -> None:
    try:
        await action()
    except Exception:
        logger.warning(
            "Could not settle message %s on %s (%s); it will be delivered again",
            delivery.message.id,
            delivery.queue,
            outcome,
            exc_info=True,
        )
    else:
        MESSAGES_HANDLED.labels(delivery.queue, outcome).inc()
