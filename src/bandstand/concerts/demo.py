"""The demo calendar: eight concerts written for Bandstand, shipped in the package."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.concerts.schemas import ConcertCreate
from bandstand.concerts.service import concert_service


def demo_concerts() -> list[ConcertCreate]:
    """The concerts of `demo/concerts.json`, validated as an admin's input would be."""
    source = resources.files("bandstand.concerts").joinpath("demo", "concerts.json")
    documents: list[dict[str, Any]] = json.loads(source.read_text(encoding="utf-8"))
    return [ConcertCreate.model_validate(document) for document in documents]


async def seed_demo(session: AsyncSession, progress: Callable[[int], None] | None = None) -> int:
    """Add the demo concerts that are not there yet (matched by name and start time); the number
    of rows created. `progress` is told of each row created. The caller commits."""
    created = 0
    for data in demo_concerts():
        if await concert_service.concerts.by_name_and_date(session, data.concert_name, data.date):
            continue
        await concert_service.create(session, data, actor_id=None)
        created += 1
        if progress is not None:
            progress(1)
    return created
