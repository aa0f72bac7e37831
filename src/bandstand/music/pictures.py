"""Event pictures' use cases (the concert app's gallery). Same rules as service.py: the
request's session, no commit, events through the outbox."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.music import events
from bandstand.music.models import Picture
from bandstand.music.picture_repository import PictureRepository
from bandstand.music.schemas import CHOSEN_ID_MAX, PictureCreate
from bandstand.platform.errors import BadRequest, Conflict, NotFound
from bandstand.platform.pagination import PageParams, paginate
from bandstand.platform.rows import apply_changes, changed_fields, field_dicts


class PictureNotFound(NotFound):
    def __init__(self, picture_id: int) -> None:
        super().__init__(f"Picture with id {picture_id} not found")


class PictureIdTaken(Conflict):
    def __init__(self, picture_id: int) -> None:
        super().__init__(f"picture with id {picture_id} already present")


class PictureService:
    def __init__(self) -> None:
        self.pictures = PictureRepository()

    async def get(self, session: AsyncSession, picture_id: int) -> Picture:
        picture = await self.pictures.get(session, picture_id)
        if picture is None:
            raise PictureNotFound(picture_id)
        return picture

    async def page(
        self, session: AsyncSession, pagination: PageParams, request: Request
    ) -> dict[str, Any]:
        """A page of pictures, as plain dicts of `PictureRead`'s fields."""
        statement = self.pictures.listing()
        page = await paginate(session, statement, pagination, request, scalars=False)
        page["results"] = field_dicts(page["results"])
        return page

    async def first(self, session: AsyncSession, limit: int) -> list[Picture]:
        return list(await self.pictures.first(session, limit))

    async def create(
        self,
        session: AsyncSession,
        data: PictureCreate,
        actor_id: int | None,
        *,
        picture_id: int | None = None,
        event_date_text: str | None = None,
    ) -> Picture:
        """A new picture; `picture_id` only for the legacy routes whose clients chose ids, and
        `event_date_text` for their dates, kept in the form they were sent."""
        if picture_id is not None and await self.pictures.get(session, picture_id) is not None:
            raise PictureIdTaken(picture_id)
        picture = Picture(**data.model_dump(), event_date_text=event_date_text)
        if picture_id is not None:
            picture.id = picture_id
        await self.pictures.add(session, picture, explicit_id=picture_id is not None)
        return await events.PICTURES.created(session, picture, actor_id)

    async def update(
        self,
        session: AsyncSession,
        picture: Picture,
        changes: dict[str, Any],
        actor_id: int | None,
    ) -> Picture:
        if "event_date" in changes:
            # A date sent without its legacy text form is shown in ISO form from now on.
            changes = {"event_date_text": None, **changes}
        changed = changed_fields(picture, changes)
        if not changed:
            return picture
        apply_changes(picture, changes, changed)
        await session.flush()
        public = dict.fromkeys("event_date" if key == "event_date_text" else key for key in changed)
        await events.PICTURES.updated(session, picture, list(public), actor_id)
        return picture

    async def put(
        self,
        session: AsyncSession,
        picture_id: int,
        changes: dict[str, Any],
        actor_id: int | None,
    ) -> Picture:
        """The concert app's PUT, which works for every id: it creates a missing picture."""
        picture = await self.pictures.get(session, picture_id)
        if picture is not None:
            return await self.update(session, picture, changes, actor_id)
        if picture_id > CHOSEN_ID_MAX:
            raise BadRequest(f"id: a new picture's id is at most {CHOSEN_ID_MAX}")
        if changes.get("pic_url") is None:
            raise BadRequest(f"pic_url: Field required to create picture {picture_id}")
        fields = dict(changes)
        text = fields.pop("event_date_text", None)
        return await self.create(
            session,
            PictureCreate.model_validate(fields),
            actor_id,
            picture_id=picture_id,
            event_date_text=text,
        )

    async def count(self, session: AsyncSession) -> int:
        return await self.pictures.count(session)

    async def delete(self, session: AsyncSession, picture: Picture, actor_id: int | None) -> None:
        await self.pictures.delete(session, picture)
        await events.PICTURES.deleted(session, picture, actor_id)


picture_service = PictureService()
