"""Events the marketplace publishes, through the outbox in the business transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.marketplace.models import Instrument
from bandstand.platform.messaging import publish_event

SOURCE = "marketplace"
INSTRUMENT_CREATED = "marketplace.instrument.created"
INSTRUMENT_UPDATED = "marketplace.instrument.updated"
INSTRUMENT_DELETED = "marketplace.instrument.deleted"
INSTRUMENTS_IMPORTED = "marketplace.instruments.imported"


async def instrument_created(
    session: AsyncSession, instrument: Instrument, actor_id: int | None
) -> None:
    payload = {"instrument_id": instrument.id, "name": instrument.name, "actor_id": actor_id}
    await publish_event(session, INSTRUMENT_CREATED, payload, source=SOURCE)


async def instrument_updated(
    session: AsyncSession, instrument: Instrument, changed: Sequence[str], actor_id: int | None
) -> None:
    payload = {
        "instrument_id": instrument.id,
        "name": instrument.name,
        "changed": list(changed),
        "actor_id": actor_id,
    }
    await publish_event(session, INSTRUMENT_UPDATED, payload, source=SOURCE)


async def instrument_deleted(
    session: AsyncSession, instrument_id: int, name: str, actor_id: int | None
) -> None:
    payload = {"instrument_id": instrument_id, "name": name, "actor_id": actor_id}
    await publish_event(session, INSTRUMENT_DELETED, payload, source=SOURCE)


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
