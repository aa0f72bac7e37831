"""Events the concerts service publishes (through the outbox, in the business transaction), and
the handlers of the events it consumes."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.concerts.models import Concert
from bandstand.concerts.repository import AttendanceRepository
from bandstand.platform.messaging import Message, ResourceEvents, Subscription, publish_event
from bandstand.platform.schemas import iso_utc

logger = logging.getLogger(__name__)

SOURCE = "concerts"
ATTENDANCE_CHANGED = "concerts.attendance.changed"

IDENTITY_QUEUE = "concerts.identity-events"
USER_DELETED = "identity.user.deleted"


def concert_fields(concert: Concert) -> dict[str, Any]:
    return {
        "concert_id": concert.id,
        "concert_name": concert.concert_name,
        "duration": concert.duration,
        "city": concert.city,
        "date": iso_utc(concert.date),
        "venue": concert.venue,
        "description": concert.description,
        "picture_id": concert.picture_id,
    }


CONCERTS = ResourceEvents[Concert](
    SOURCE, "concert", concert_fields, deleted_fields=lambda concert: {"concert_id": concert.id}
)


async def attendance_changed(
    session: AsyncSession, concert_id: int, user_id: int, status: str, previous_status: str
) -> None:
    payload = {
        "concert_id": concert_id,
        "user_id": user_id,
        "status": status,
        "previous_status": previous_status,
    }
    await publish_event(session, ATTENDANCE_CHANGED, payload, source=SOURCE)


async def on_user_deleted(session: AsyncSession, message: Message) -> None:
    """Erase the deleted user's attendance (run once per message by the kernel)."""
    user_id = message.payload.get("user_id")
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        # Raising sends the message to be retried and then dead-lettered, where it can be seen.
        raise ValueError(f"{USER_DELETED} {message.id} has no integer user_id")
    removed = await AttendanceRepository().remove_user(session, user_id)
    logger.info("erased %d attendance rows of deleted user %d", removed, user_id)


SUBSCRIPTION = Subscription(IDENTITY_QUEUE, {USER_DELETED: on_user_deleted})
