"""Concerts's tables: concerts and attendance (plus the platform outbox and processed messages)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, validates

from bandstand.platform.clock import utcnow
from bandstand.platform.database import ServiceBase, new_metadata
from bandstand.platform.messaging import attach_outbox, attach_processed_messages
from bandstand.platform.rows import Timestamps

ATTENDING = "Attending"
NOT_ATTENDING = "Not Attending"
NO_ANSWER = "-"
"""The status of a user who has not answered. The service deletes the row rather than store it;
a row holding it (allowed by the table) reads exactly like no row."""
STORED_STATUSES = (ATTENDING, NOT_ATTENDING)
"""The statuses that are an answer."""
MAX_ID = 2**31 - 1
"""The largest id an INTEGER column holds: a larger one names nothing."""


def city_key(city: str) -> str:
    """The form cities are compared in: case-folded in Python, so every engine agrees
    (SQLite's `lower()` folds ASCII only)."""
    return " ".join(city.split()).casefold()


class ConcertsBase(ServiceBase):
    __abstract__ = True
    metadata = new_metadata()


class Concert(ConcertsBase, Timestamps):
    __tablename__ = "concerts"
    __table_args__ = (
        CheckConstraint("duration >= 1", name="duration_positive"),
        # The list orders by (date, id); the city filter comes with the same ordering.
        Index("ix_concerts_date_id", "date", "id"),
        Index("ix_concerts_city_key_date", "city_key", "date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    concert_name: Mapped[str] = mapped_column(String(200))
    duration: Mapped[int] = mapped_column(Integer)
    """Minutes."""
    city: Mapped[str] = mapped_column(String(100))
    city_key: Mapped[str] = mapped_column(String(100))
    date: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """When the concert starts, in UTC."""
    venue: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    picture_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """A picture of the music service; a plain id, no foreign key across services."""

    @validates("city")
    def _keep_city_key(self, _key: str, city: str) -> str:
        self.city_key = city_key(city)
        return city


class Attendance(ConcertsBase):
    """A user's answer about one concert. No row is the answer "-"."""

    __tablename__ = "attendance"
    __table_args__ = (
        CheckConstraint("status IN ('Attending', 'Not Attending', '-')", name="status_allowed"),
        # The primary key serves a user's rows; this serves a concert's, by status.
        Index("ix_attendance_concert_id_status", "concert_id", "status"),
    )

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    concert_id: Mapped[int] = mapped_column(
        ForeignKey("concerts.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


attach_outbox(ConcertsBase.metadata)
attach_processed_messages(ConcertsBase.metadata)
