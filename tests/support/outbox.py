"""Reading what a service wrote to its outbox, for tests of the events it publishes."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from bandstand.platform.database import Database
from bandstand.platform.messaging.outbox import outbox_table


async def outbox_events(database: Database, prefix: str) -> list[dict[str, Any]]:
    """The decoded events in the outbox whose type starts with `prefix`, oldest first.

    Each is checked on the way: its routing key is its type, and it goes to the events exchange,
    not to a work queue.
    """
    async with database.session() as session:
        rows = await session.execute(
            select(outbox_table.c.routing_key, outbox_table.c.body, outbox_table.c.queue)
            .where(outbox_table.c.routing_key.startswith(prefix))
            .order_by(outbox_table.c.id)
        )
        messages = []
        for routing_key, body, queue in rows:
            message: dict[str, Any] = json.loads(body)
            assert message["type"] == routing_key
            assert queue is None
            messages.append(message)
        return messages
