"""The unit of work outside a request: after-commit work follows whatever commits a `Database`
session (a block of `unit_of_work`, a command's own commits), driven by the session's events;
`after_commit_of` runs for the transactions that wrote its table, found from flushes,
statements and the declared writes of textual ones; a rollback runs nothing and keeps nothing
for the next transaction. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import Integer, String, delete, insert, text, update
from sqlalchemy.orm import Mapped, mapped_column

from bandstand.platform.after_commit import after_commit, record_write, writes
from bandstand.platform.bulk import insert_rows
from bandstand.platform.database import Database, ServiceBase, new_metadata


class Base(ServiceBase):
    __abstract__ = True
    metadata = new_metadata()


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    body: Mapped[str] = mapped_column(String(50))


class Other(Base):
    __tablename__ = "others"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


NOTES = Note.__table__


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'unit.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
    database = Database(url)
    async with database.engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    yield database
    await database.dispose()


def recorder(ran: list[str], name: str) -> Callable[[], None]:
    return lambda: ran.append(name)


async def test_a_unit_of_work_runs_its_callbacks_when_it_commits(database: Database) -> None:
    ran: list[str] = []

    async def drop_cache() -> None:
        ran.append("dropped")

    async with database.unit_of_work() as session:
        session.add(Note(body="kept"))
        after_commit(session, drop_cache)
        await session.flush()
        assert ran == []
    assert ran == ["dropped"]


async def test_a_unit_of_work_that_raises_runs_nothing_and_keeps_nothing(
    database: Database,
) -> None:
    ran: list[str] = []
    database.after_commit_of(NOTES, recorder(ran, "watch"))

    async def refused() -> None:
        async with database.unit_of_work() as session:
            session.add(Note(body="lost"))
            after_commit(session, recorder(ran, "callback"))
            await session.flush()
            raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        await refused()
    async with database.unit_of_work() as session:
        session.add(Other())
    assert ran == []


async def test_watches_see_orm_flushes_statements_and_declared_writes(database: Database) -> None:
    ran: list[str] = []
    database.after_commit_of(NOTES, recorder(ran, "any"))
    database.after_commit_of("notes", recorder(ran, "inserts"), operations={"insert"})
    database.after_commit_of(Other.__table__, recorder(ran, "others"))

    async with database.unit_of_work() as session:
        session.add(Note(id=1, body="orm"))
    assert ran == ["any", "inserts"]

    ran.clear()
    async with database.unit_of_work() as session:
        await session.execute(update(NOTES).values(body="statement"))
    assert ran == ["any"]

    ran.clear()
    async with database.unit_of_work() as session:
        note = await session.get(Note, 1)
        assert note is not None
        note.body = "flushed change"
    assert ran == ["any"]

    ran.clear()
    async with database.unit_of_work() as session:
        await insert_rows(session, NOTES, [{"id": 2, "body": "bulk"}, {"id": 3, "body": "bulk"}])
    assert ran == ["any", "inserts"]

    ran.clear()
    async with database.unit_of_work() as session:
        declared = text("DELETE FROM notes WHERE id = 3").execution_options(
            **writes("notes", "delete")
        )
        await session.execute(declared)
    assert ran == ["any"]

    ran.clear()
    async with database.unit_of_work() as session:
        connection = await session.connection()
        await connection.exec_driver_sql("DELETE FROM notes WHERE id = 2")
        record_write(session, "notes", "delete")
    assert ran == ["any"]

    ran.clear()
    async with database.unit_of_work() as session:
        await session.execute(delete(NOTES).where(NOTES.c.id == 99))
        await session.execute(insert(Other.__table__).values(id=1))
    assert ran == ["any", "others"]


async def test_reading_or_an_unchanged_object_wakes_no_watch(database: Database) -> None:
    ran: list[str] = []
    async with database.unit_of_work() as session:
        session.add(Note(id=1, body="same"))
    database.after_commit_of(NOTES, recorder(ran, "any"))
    async with database.unit_of_work() as session:
        note = await session.get(Note, 1)
        assert note is not None
        note.body = "same"  # set to what it was: nothing to write
    assert ran == []


async def test_every_commit_of_a_long_session_runs_its_own_work(database: Database) -> None:
    """A command that commits chunk by chunk in one session (the marketplace import)."""
    ran: list[str] = []
    database.after_commit_of(NOTES, recorder(ran, "chunk"), operations={"insert"})
    async with database.session() as session:
        for n in range(3):
            session.add(Note(body=f"chunk {n}"))
            await session.commit()
        session.add(Note(body="never committed"))
        await session.flush()
        await session.rollback()
        await session.execute(update(Other.__table__).values(id=5))
        await session.commit()
    assert ran == ["chunk", "chunk", "chunk"]


async def test_a_failing_callback_is_logged_and_the_commit_stays(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []

    def boom() -> None:
        raise RuntimeError("the cache is gone")

    database.after_commit_of(NOTES, boom)
    database.after_commit_of(NOTES, recorder(ran, "after the failure"))
    async with database.unit_of_work() as session:
        session.add(Note(id=7, body="stays"))
    assert ran == ["after the failure"]
    assert "the cache is gone" in caplog.text
    async with database.session() as session:
        assert await session.get(Note, 7) is not None


def test_an_unknown_operation_is_refused(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'refused.sqlite3'}")
    with pytest.raises(ValueError, match="upsert"):
        database.after_commit_of(NOTES, lambda: None, operations={"upsert"})
