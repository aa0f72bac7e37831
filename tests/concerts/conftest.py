"""Concerts's test fixtures: an empty migrated database per test on each engine, the app with its
lifespan running, tokens signed as identity signs them, and helpers to store concerts and look
at what was stored."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

import bandstand.concerts
from bandstand.concerts.app import create_app
from bandstand.concerts.models import Attendance, Concert, ConcertsBase
from bandstand.platform.database import Database
from bandstand.platform.messaging.outbox import outbox_table
from bandstand.platform.runtime import Runtime
from bandstand.platform.settings import Settings
from tests.support.client import api_client
from tests.support.databases import MigratedDatabases
from tests.support.outbox import outbox_events
from tests.support.statements import recorded_statements
from tests.support.tokens import TokenFactory

MIGRATIONS = Path(bandstand.concerts.__file__).parent / "migrations"
ADMIN_ID = 1
ALICE_ID = 2
BOB_ID = 3


def error_locations(body: dict[str, Any]) -> list[str]:
    """The field names a validation error body points at (FastAPI's list form)."""
    detail = body.get("detail")
    assert isinstance(detail, list), body
    return [str(part) for error in detail for part in error["loc"] if part != "body"]


class Concerts:
    """The running concerts app, its database, and tokens for an admin and two users."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient, tokens: TokenFactory) -> None:
        self.app = app
        self.client = client
        self.tokens = tokens
        self.admin = tokens.headers(user_id=ADMIN_ID, role="admin")
        self.alice = tokens.headers(user_id=ALICE_ID)
        self.bob = tokens.headers(user_id=BOB_ID)

    @property
    def database(self) -> Database:
        database: Database = self.app.state.database
        return database

    async def add_concert(
        self,
        concert_name: str = "Night Ferries",
        *,
        city: str = "Glasgow",
        date: datetime | None = None,
        duration: int = 90,
        venue: str = "The Coal Exchange",
        description: str = "",
        picture_id: int | None = None,
    ) -> int:
        """Store a concert directly (no request, no event); its id."""
        now = datetime.now(UTC)
        async with self.database.session() as session, session.begin():
            concert = Concert(
                concert_name=concert_name,
                city=city,
                date=date or datetime(2027, 5, 1, 20, tzinfo=UTC),
                duration=duration,
                venue=venue,
                description=description,
                picture_id=picture_id,
                created_at=now,
                updated_at=now,
            )
            session.add(concert)
            await session.flush()
            return concert.id

    async def add_attendance(self, user_id: int, concert_id: int, status: str) -> None:
        async with self.database.session() as session, session.begin():
            session.add(
                Attendance(
                    user_id=user_id,
                    concert_id=concert_id,
                    status=status,
                    updated_at=datetime.now(UTC),
                )
            )

    async def clear(self) -> None:
        """Delete every concert (and with them the attendance) and every outbox row."""
        async with self.database.session() as session, session.begin():
            await session.execute(Attendance.__table__.delete())
            await session.execute(Concert.__table__.delete())
            await session.execute(outbox_table.delete())

    async def concerts_snapshot(self) -> list[dict[str, Any]]:
        async with self.database.session() as session:
            rows = (await session.execute(select(Concert).order_by(Concert.id))).scalars().all()
            return [
                {column.key: getattr(row, column.key) for column in Concert.__table__.columns}
                for row in rows
            ]

    async def attendance_rows(self) -> list[tuple[int, int, str]]:
        """Every stored (user_id, concert_id, status)."""
        async with self.database.session() as session:
            statement = select(Attendance.user_id, Attendance.concert_id, Attendance.status)
            rows = await session.execute(
                statement.order_by(Attendance.user_id, Attendance.concert_id)
            )
            return [(int(u), int(c), str(s)) for u, c, s in rows]

    async def concert_count(self) -> int:
        async with self.database.session() as session:
            statement = select(func.count()).select_from(Concert)
            return int((await session.execute(statement)).scalar_one())

    async def outbox(self, prefix: str = "concerts.") -> list[dict[str, Any]]:
        """The decoded events in the outbox whose type starts with `prefix`, oldest first."""
        messages = await outbox_events(self.database, prefix)
        assert all(message["source"] == "concerts" for message in messages)
        return messages

    def statements(self) -> AbstractContextManager[list[str]]:
        """The SQL statements run inside the block (the outbox relay's polls left out)."""
        return recorded_statements(self.database)


@pytest.fixture
async def concerts_database_url(
    engine: str, migrated_databases: MigratedDatabases, tmp_path: Path
) -> str:
    """An empty, migrated concerts database on the engine under test."""
    return await migrated_databases.fresh(
        engine, "concerts", MIGRATIONS, ConcertsBase.metadata, tmp_path
    )


@pytest.fixture
def concerts_settings(
    make_settings: Callable[..., Settings], concerts_database_url: str
) -> Settings:
    return make_settings(databases={"concerts": concerts_database_url})


@pytest.fixture
def token_factory() -> TokenFactory:
    return TokenFactory()


@asynccontextmanager
async def running_concerts(settings: Settings, tokens: TokenFactory) -> AsyncIterator[Concerts]:
    """The concerts app on `settings`, its lifespan running, trusting `tokens`' key."""
    app = create_app(Runtime(settings, jwks_fetch=tokens.jwks))
    async with api_client(app, raise_app_exceptions=False) as client:
        yield Concerts(app, client, tokens)


@pytest.fixture
async def concerts(
    concerts_settings: Settings, token_factory: TokenFactory
) -> AsyncIterator[Concerts]:
    async with running_concerts(concerts_settings, token_factory) as harness:
        yield harness


@pytest.fixture
def client(concerts: Concerts) -> httpx.AsyncClient:
    return concerts.client


CONCERT = {
    "concert_name": "Static Orchard Live",
    "duration": 80,
    "city": "Berlin",
    "date": "2027-03-19T21:00:00Z",
    "venue": "Halle am Kanal",
    "description": "Modular synths and a cello.",
    "picture_id": 4,
}
