"""Helpers shared by the academy's repositories."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.academy.models import MAX_ID


def valid_id(identifier: int) -> bool:
    """Whether `identifier` fits the INTEGER columns (a larger one cannot exist)."""
    return 1 <= identifier <= MAX_ID


def upsert_for(session: AsyncSession) -> Any:
    """The INSERT construct of the session's dialect (for ON CONFLICT)."""
    return sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert


def rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
