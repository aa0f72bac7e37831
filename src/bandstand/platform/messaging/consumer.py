"""Handling a delivered message in a service's own transaction, exactly once in effect."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.platform.database import Database
from bandstand.platform.messaging.broker import Delivery, Handler
from bandstand.platform.messaging.idempotency import mark_processed
from bandstand.platform.messaging.message import Message

logger = logging.getLogger(__name__)

MessageHandler = Callable[[AsyncSession, Message], Awaitable[None]]


async def handle_idempotently(
    database: Database, consumer_name: str, delivery: Delivery, handler: MessageHandler
) -> None:
    """Run `handler` and record the message as processed, in one transaction.

    A message this consumer already processed is skipped, so a redelivery changes nothing. The
    caller acks after this returns, i.e. after the commit; if it raises, nothing was committed.
    The handler's after-commit work (`platform.after_commit`) runs with the commit, before the
    ack.
    """
    message = delivery.message
    async with database.unit_of_work() as session:
        if not await mark_processed(session, message.id, consumer_name):
            logger.info(
                "Skipping message %s (%s): already processed by %s",
                message.id,
                message.type,
                consumer_name,
            )
            return
        await handler(session, message)


def idempotent_handler(database: Database, consumer_name: str, handler: MessageHandler) -> Handler:
    """A `Broker.consume` handler running `handler` through `handle_idempotently`."""

    async def handle(delivery: Delivery) -> None:
        await handle_idempotently(database, consumer_name, delivery, handler)

    return handle
