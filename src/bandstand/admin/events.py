"""Events admin publishes (setting changes, through the outbox) and the audit consumer: one
durable queue bound to every routing key, recording every event of every service."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.admin.audit import USER_DELETED, aggregate, entry_values
from bandstand.admin.repository import AuditRepository, StatsRepository
from bandstand.platform.messaging import BatchSubscription, Message, publish_event

logger = logging.getLogger(__name__)

SOURCE = "admin"
SETTING_CREATED = "admin.setting.created"
SETTING_UPDATED = "admin.setting.updated"
SETTING_DELETED = "admin.setting.deleted"

AUDIT_QUEUE = "admin.audit"
ALL_EVENTS = "#"
# Large batches: each costs a handful of round trips to the database whatever its size, and an
# audit entry may well appear a tenth of a second after its event.
BATCH_SIZE = 500
BATCH_WAIT_SECONDS = 0.1

_audit = AuditRepository()
_stats = StatsRepository()


async def setting_changed(
    session: AsyncSession, type_: str, key: str, actor_id: int | None, **details: Any
) -> None:
    payload = {"key": key, **details, "actor_id": actor_id}
    await publish_event(session, type_, payload, source=SOURCE)


async def record_events(session: AsyncSession, messages: Sequence[Message]) -> None:
    """Record a batch of events and add them to the aggregates, in the caller's transaction.

    Idempotent on the event id: an event already in the log (a redelivery) is neither recorded
    nor counted again."""
    now = datetime.now(UTC)
    unique = list({message.id: message for message in messages}.values())
    inserted = await _audit.insert_new(session, [entry_values(m, now) for m in unique])
    fresh = [message for message in unique if message.id in inserted]
    if fresh:
        await _stats.apply(session, aggregate(fresh))
    skipped = len(unique) - len(fresh)
    if skipped:
        logger.info("audit: %d event(s) already recorded, skipped", skipped)
    deleted_users = [
        user_id
        for message in unique
        if message.type == USER_DELETED
        and isinstance(user_id := message.payload.get("user_id"), int)
        and not isinstance(user_id, bool)
    ]
    if deleted_users:
        # A deleted user's address and browser are personal data the log no longer needs.
        await _audit.erase_client_details(session, deleted_users)


SUBSCRIPTION = BatchSubscription(
    AUDIT_QUEUE,
    (ALL_EVENTS,),
    record_events,
    batch_size=BATCH_SIZE,
    max_wait=BATCH_WAIT_SECONDS,
    # The audit log's unique event id is the record of what was processed.
    record_processed=False,
)
