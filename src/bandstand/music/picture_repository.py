"""The queries of the event pictures (the concert app's gallery)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bandstand.music.models import Picture
from bandstand.music.repository import MusicRows

PICTURE_COLUMNS: tuple[InstrumentedAttribute[Any], ...] = (
    Picture.id,
    Picture.pic_url,
    Picture.event_country,
    Picture.event_state,
    Picture.event_city,
    Picture.event_date,
    Picture.created_at,
    Picture.updated_at,
)
_PICTURES: Select[Any] = select(*PICTURE_COLUMNS).order_by(Picture.id)
"""Built once: the list's statement."""


class PictureRepository(MusicRows[Picture]):
    async def get(self, session: AsyncSession, picture_id: int) -> Picture | None:
        return await session.get(Picture, picture_id)

    def listing(self) -> Select[Any]:
        return _PICTURES

    async def first(self, session: AsyncSession, limit: int) -> Sequence[Picture]:
        statement = select(Picture).order_by(Picture.id).limit(limit)
        return list((await session.execute(statement)).scalars())

    async def count(self, session: AsyncSession) -> int:
        statement = select(func.count()).select_from(Picture)
        return int((await session.execute(statement)).scalar_one())

    async def by_url(self, session: AsyncSession, pic_url: str) -> Picture | None:
        statement = select(Picture).where(Picture.pic_url == pic_url).order_by(Picture.id)
        return (await session.execute(statement.limit(1))).scalar_one_or_none()
