"""Admin's tables: the audit log, settings, and the small aggregates the dashboard reads.

Every aggregate is kept by the event consumer in the transaction that records the events, so
the figures and the log never disagree and a redelivered event counts once.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Index,
    Integer,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bandstand.platform.clock import utcnow
from bandstand.platform.database import ServiceBase, new_metadata
from bandstand.platform.messaging import attach_outbox

# BIGINT on PostgreSQL; SQLite autoincrements only an INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")

SERVICE_LENGTH = 50
ACTION_LENGTH = 255
TARGET_TYPE_LENGTH = 50
TARGET_ID_LENGTH = 100
IP_LENGTH = 45
USER_AGENT_LENGTH = 512


class AdminBase(ServiceBase):
    __abstract__ = True
    metadata = new_metadata()


class AuditEntry(AdminBase):
    """One event of any service, as it was published. `event_id` makes recording idempotent."""

    __tablename__ = "audit_log"
    __table_args__ = (
        # Newest first, alone and under each filter: every list is an index range read backwards,
        # and its ids come from the index alone (the page's rows are then read by id).
        Index("ix_audit_log_occurred_at_id", "occurred_at", "id"),
        Index("ix_audit_log_service_occurred_at_id", "service", "occurred_at", "id"),
        Index("ix_audit_log_action_occurred_at_id", "action", "occurred_at", "id"),
        Index("ix_audit_log_actor_id_occurred_at_id", "actor_id", "occurred_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    service: Mapped[str] = mapped_column(String(SERVICE_LENGTH))
    action: Mapped[str] = mapped_column(String(ACTION_LENGTH))
    actor_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    target_type: Mapped[str | None] = mapped_column(String(TARGET_TYPE_LENGTH), nullable=True)
    target_id: Mapped[str | None] = mapped_column(String(TARGET_ID_LENGTH), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    ip_address: Mapped[str | None] = mapped_column(String(IP_LENGTH), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(USER_AGENT_LENGTH), nullable=True)


class AuditCount(AdminBase):
    """Entries per UTC day, service and action: the log's counts without counting its rows."""

    __tablename__ = "audit_counts"
    __table_args__ = (Index("ix_audit_counts_action_day", "action", "day"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    service: Mapped[str] = mapped_column(String(SERVICE_LENGTH), primary_key=True)
    action: Mapped[str] = mapped_column(String(ACTION_LENGTH), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)


class DailyMetric(AdminBase):
    """A figure per UTC day (registrations, logins, orders completed with their revenue...)."""

    __tablename__ = "daily_metrics"

    metric: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal("0"))


class Counter(AdminBase):
    """A running total (users registered minus users deleted)."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class SongPopularity(AdminBase):
    """A song's latest like count as music reported it, and its title for the dashboard."""

    __tablename__ = "song_popularity"
    __table_args__ = (Index("ix_song_popularity_like_count", "like_count"),)

    song_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    title: Mapped[str | None] = mapped_column(String(200), nullable=True)
    artist: Mapped[str | None] = mapped_column(String(200), nullable=True)
    like_count: Mapped[int] = mapped_column(Integer, default=0)
    likes_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    """When the event that set `like_count` occurred; an older one arriving later changes
    nothing."""
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


class Setting(AdminBase):
    """A platform setting; the public ones are readable by anyone."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(String(500), default="")
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


# No processed_messages table: the audit log's unique event id records what was consumed.
attach_outbox(AdminBase.metadata)
