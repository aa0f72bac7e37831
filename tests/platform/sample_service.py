"""A tiny service built on the kernel, to test the kernel without any real service."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, Request, status
from pydantic import BaseModel, Field
from sqlalchemy import Numeric, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from bandstand.platform.app import create_service_app
from bandstand.platform.database import ServiceBase, new_metadata
from bandstand.platform.errors import Conflict, NotFound, legacy_errors
from bandstand.platform.messaging.outbox import attach_outbox, publish_event
from bandstand.platform.pagination import Pagination, paginate
from bandstand.platform.runtime import Runtime
from bandstand.platform.security import AdminUser, CurrentUser
from bandstand.platform.transactions import DBSession


class SampleBase(ServiceBase):
    __abstract__ = True
    metadata = new_metadata()


class Note(SampleBase):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(100), unique=True)


class Gig(SampleBase):
    """Rows with NULLs and ties in their sort keys, for paging by cursor."""

    __tablename__ = "gigs"
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[datetime.date | None]
    score: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    city: Mapped[str] = mapped_column(String(20))


attach_outbox(SampleBase.metadata)

GIG_ORDERINGS: dict[str, tuple[Any, ...]] = {
    "id": (Gig.id,),
    "-id": (Gig.id.desc(),),
    "day": (Gig.day, Gig.id),
    "-day": (Gig.day.desc(), Gig.id.desc()),
    "day-nulls-last": (Gig.day.asc().nulls_last(), Gig.id),
    "-day-nulls-first": (Gig.day.desc().nulls_first(), Gig.id),
    "city,-score,day": (Gig.city, Gig.score.desc().nulls_last(), Gig.day.nulls_first(), Gig.id),
}


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=100)


class NoteOut(BaseModel):
    id: int
    text: str


router = APIRouter(prefix="/api/v1")


@router.post("/notes", status_code=status.HTTP_201_CREATED, response_model=NoteOut)
async def create_note(data: NoteIn, session: DBSession) -> Note:
    note = Note(text=data.text)
    session.add(note)
    await session.flush()
    await publish_event(session, "sample.note.created", {"id": note.id}, source="sample")
    return note


@router.post("/notes/then-fail", status_code=201)
async def create_then_fail(data: NoteIn, session: DBSession) -> None:
    session.add(Note(text=data.text))
    await session.flush()
    raise Conflict("changed my mind")


@router.post("/notes/then-crash", status_code=201)
async def create_then_crash(data: NoteIn, session: DBSession) -> None:
    session.add(Note(text=data.text))
    await session.flush()
    raise RuntimeError("a bug")


@router.post("/notes/unflushed", status_code=201)
async def create_unflushed(data: NoteIn, session: DBSession) -> dict[str, str]:
    # The duplicate only surfaces at the commit the middleware performs.
    session.add(Note(text=data.text))
    return {"status": "accepted"}


@router.get("/notes")
async def list_notes(session: DBSession, request: Request, pagination: Pagination) -> Any:
    statement = select(Note).order_by(Note.id)
    return await paginate(
        session, statement, pagination, request, transform=lambda n: {"id": n.id, "text": n.text}
    )


@router.get("/gigs")
async def list_gigs(
    session: DBSession,
    request: Request,
    pagination: Pagination,
    ordering: str = "id",
    city: str | None = None,
) -> Any:
    statement = select(Gig).order_by(*GIG_ORDERINGS[ordering])
    if city is not None:
        statement = statement.where(Gig.city == city)
    return await paginate(session, statement, pagination, request, transform=lambda g: g.id)


@router.get("/notes/count")
async def count_notes(session: DBSession) -> dict[str, int]:
    return {"count": int((await session.execute(select(func.count(Note.id)))).scalar_one())}


@router.get("/legacy/notes/{note_id}")
@legacy_errors("error", validation_status=400)
async def legacy_note(note_id: int, session: DBSession) -> NoteOut:
    note = await session.get(Note, note_id)
    if note is None:
        raise NotFound(f"Note {note_id} not found")
    return NoteOut(id=note.id, text=note.text)


@router.get("/whoami")
async def whoami(user: CurrentUser) -> dict[str, Any]:
    return {"id": user.id, "role": user.role}


@router.get("/admin-only")
async def admin_only(user: AdminUser) -> dict[str, Any]:
    return {"id": user.id}


def create_app(runtime: Runtime) -> FastAPI:
    return create_service_app("sample", [router], runtime)


async def add_gigs(client: httpx.AsyncClient, number: int) -> None:
    """`number` gigs of a fixed random mix, through the app of `client` (`sample_client`)."""
    picked = random.Random(15)
    app = client.app  # type: ignore[attr-defined]
    async with app.state.database.unit_of_work() as session:
        for _ in range(number):
            session.add(
                Gig(
                    day=picked.choice([None, datetime.date(2026, 5, 1), datetime.date(2026, 6, 2)]),
                    score=picked.choice([None, Decimal("1.50"), Decimal("7.25")]),
                    city=picked.choice(["leeds", "york"]),
                )
            )
