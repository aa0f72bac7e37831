"""Billing's tables: orders (plus the platform outbox and processed messages)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from bandstand.platform.clock import utcnow
from bandstand.platform.database import ServiceBase, new_metadata
from bandstand.platform.messaging import attach_outbox, attach_processed_messages

PENDING = "pending"
COMPLETED = "completed"
FAILED = "failed"
STATUSES = (PENDING, COMPLETED, FAILED)
MAX_ID = 2**31 - 1
"""The largest user id an INTEGER column holds."""
AMOUNT_DIGITS = 12
"""Precision of every amount column: up to 9,999,999,999.99."""


class BillingBase(ServiceBase):
    __abstract__ = True
    metadata = new_metadata()


class Order(BillingBase):
    """One order, accepted as `pending`; the worker completes it (with tax lines) or fails it."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("number_of_items >= 1", name="number_of_items_positive"),
        CheckConstraint("total_amount >= 0", name="total_amount_not_negative"),
        CheckConstraint("status IN ('pending', 'completed', 'failed')", name="status_allowed"),
        # One order per (user, Idempotency-Key); NULL keys never collide.
        UniqueConstraint("user_id", "idempotency_key", name="uq_orders_user_id_idempotency_key"),
        # A user's list, newest first; the admin's list by status.
        Index("ix_orders_user_id_created_at", "user_id", "created_at"),
        Index("ix_orders_status_created_at", "status", "created_at"),
        Index("ix_orders_created_at", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[int] = mapped_column(Integer)
    """The billed user (identity's id); a plain number, no foreign key across services."""
    number_of_items: Mapped[int] = mapped_column(Integer)
    total_amount: Mapped[Decimal] = mapped_column(Numeric(AMOUNT_DIGITS, 2))
    """What the user pays, taxes included."""
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    failure_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The lines the worker computes: total_amount = net_amount + tax_amount.
    tax_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 4), nullable=True)
    net_amount: Mapped[Decimal | None] = mapped_column(Numeric(AMOUNT_DIGITS, 2), nullable=True)
    tax_amount: Mapped[Decimal | None] = mapped_column(Numeric(AMOUNT_DIGITS, 2), nullable=True)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """Who placed the order: the user, or an admin billing them."""
    idempotency_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    request_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """Digest of the request an Idempotency-Key first came with: a reuse must match it."""


attach_outbox(BillingBase.metadata)
attach_processed_messages(BillingBase.metadata)


@dataclass(slots=True)
class BillableOrder:
    """An order as the worker bills it: the stored values it checks, and the outcome it sets
    (plain values read in one statement; `OrderRepository.finish_many` stores the outcome)."""

    id: uuid.UUID
    user_id: int
    number_of_items: int
    total_amount: Decimal
    currency: str
    status: str
    created_by: int | None
    processed_at: datetime | None = None
    failure_reason: str | None = None
    tax_rate: Decimal | None = None
    net_amount: Decimal | None = None
    tax_amount: Decimal | None = None
