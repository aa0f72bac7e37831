"""Concerts's test fixtures: the service harness with tokens for an admin and two users, and
helpers to store concerts and look at what was stored."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

import bandstand.concerts
from bandstand.concerts.app import create_app
from bandstand.concerts.models import Attendance, Concert, ConcertsBase
from bandstand.platform.messaging.outbox import outbox_table
from tests.support.harness import Headers, ServiceHarness

MIGRATIONS = Path(bandstand.concerts.__file__).parent / "migrations"
ADMIN_ID = 1
ALICE_ID = 2
BOB_ID = 3


def error_locations(body: dict[str, Any]) -> list[str]:
    """The field names a validation error body points at (FastAPI's list form)."""
    detail = body.get("detail")
    assert isinstance(detail, list), body
    return [str(part) for error in detail for part in error["loc"] if part != "body"]


class Concerts(ServiceHarness):
    """The running concerts app, its database, and tokens for an admin and two users."""

    name = "concerts"
    app_factory = create_app
    migrations = MIGRATIONS
    metadata = ConcertsBase.metadata
    users = {"admin": (ADMIN_ID, "admin"), "alice": (ALICE_ID, "user"), "bob": (BOB_ID, "user")}
    admin: Headers
    alice: Headers
    bob: Headers

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
        async with self.session() as session:
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
        async with self.session() as session:
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
        async with self.session() as session:
            await session.execute(Attendance.__table__.delete())
            await session.execute(Concert.__table__.delete())
            await session.execute(outbox_table.delete())

    async def concerts_snapshot(self) -> list[dict[str, Any]]:
        return await self.rows(Concert)

    async def attendance_rows(self) -> list[tuple[int, int, str]]:
        """Every stored (user_id, concert_id, status)."""
        async with self.database.session() as session:
            statement = select(Attendance.user_id, Attendance.concert_id, Attendance.status)
            rows = await session.execute(
                statement.order_by(Attendance.user_id, Attendance.concert_id)
            )
            return [(int(u), int(c), str(s)) for u, c, s in rows]

    async def concert_count(self) -> int:
        return await self.count(Concert)


concerts_database_url, concerts_settings, concerts, client = Concerts.fixtures()
running_concerts = Concerts.running


CONCERT = {
    "concert_name": "Static Orchard Live",
    "duration": 80,
    "city": "Berlin",
    "date": "2027-03-19T21:00:00Z",
    "venue": "Halle am Kanal",
    "description": "Modular synths and a cello.",
    "picture_id": 4,
}
