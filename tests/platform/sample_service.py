"""A tiny service built on the kernel, to test the kernel without any real service."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request, status
from pydantic import BaseModel, Field
from sqlalchemy import String, func, select
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


attach_outbox(SampleBase.metadata)


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
