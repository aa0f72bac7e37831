"""Events the marketplace publishes, through the outbox in the business transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.marketplace.models import Instrument
from bandstand.platform.messaging import ResourceEvents, publish_event

SOURCE = "marketplace"
INSTRUMENTS_IMPORTED = "marketplace.instruments.imported"


INSTRUMENTS = ResourceEvents[Instrument](
    SOURCE,
    "instrument",
    lambda instrument: {"instrument_id": instrument.id, "name": instrument.name},
)
INSTRUMENT_CREATED = INSTRUMENTS.created_type
INSTRUMENT_UPDATED = INSTRUMENTS.updated_type
INSTRUMENT_DELETED = INSTRUMENTS.deleted_type


async def instruments_imported(
    session: AsyncSession,
    inserted: int,
    updated: int,
    rejected: int,
    actor_id: int | None,
    started_at: datetime,
) -> None:
    payload = {
        "started_at": started_at.isoformat(),
        "inserted": inserted,
        "updated": updated,
        "rejected": rejected,
        "actor_id": actor_id,
    }
    await publish_event(session, INSTRUMENTS_IMPORTED, payload, source=SOURCE)
