"""Processed message ids, so that a message delivered twice is handled once.

A service's migration creates the table with
`op.create_table("processed_messages", *processed_messages_columns())`; tests use
`attach_processed_messages(metadata)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    MetaData,
    String,
    Table,
    insert,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession


def processed_messages_columns() -> list[Column[Any]]:
    """Fresh columns of the processed_messages table."""
    return [
        Column("message_id", String(36), primary_key=True),
        # Several consumers of one service may receive the same message; each handles it once.
        Column("consumer", String(255), primary_key=True),
        Column("processed_at", DateTime(timezone=True), nullable=False, index=True),
    ]


def attach_processed_messages(metadata: MetaData) -> Table:
    if "processed_messages" in metadata.tables:
        return metadata.tables["processed_messages"]
    return Table("processed_messages", metadata, *processed_messages_columns())


processed_messages_table = attach_processed_messages(MetaData())


async def mark_processed(session: AsyncSession, message_id: str, consumer: str) -> bool:
    """Record the message as processed by `consumer` in the session's transaction.

    False when it already was: the caller then skips it. A concurrent transaction recording the
    same message makes this one wait for it, so only one of them gets True.
    """
    values = {"message_id": message_id, "consumer": consumer, "processed_at": datetime.now(UTC)}
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        build = sqlite_insert if dialect == "sqlite" else postgresql_insert
        statement = (
            build(processed_messages_table)
            .values(**values)
            .on_conflict_do_nothing()
            .returning(processed_messages_table.c.message_id)
        )
        inserted = (await session.execute(statement)).scalar_one_or_none()
        return inserted is not None
    try:
        async with session.begin_nested():
            await session.execute(insert(processed_messages_table).values(**values))
    except IntegrityError:
        return False
    return True


async def mark_all_processed(
    session: AsyncSession, message_ids: Sequence[str], consumer: str
) -> set[str]:
    """Record each message as processed by `consumer`; the ids that were not recorded before.

    One statement for the whole batch, in the session's transaction."""
    if not message_ids:
        return set()
    now = datetime.now(UTC)
    unique = list(dict.fromkeys(message_ids))
    dialect = session.get_bind().dialect.name
    if dialect not in ("sqlite", "postgresql"):
        return {
            message_id
            for message_id in unique
            if await mark_processed(session, message_id, consumer)
        }
    rows = [
        {"message_id": message_id, "consumer": consumer, "processed_at": now}
        for message_id in unique
    ]
    build = sqlite_insert if dialect == "sqlite" else postgresql_insert
    statement = (
        build(processed_messages_table)
        .on_conflict_do_nothing()
        .returning(processed_messages_table.c.message_id)
    )
    result = await session.execute(statement, rows)
    return {str(message_id) for message_id in result.scalars().all()}
