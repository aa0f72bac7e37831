"""The transactional outbox: events are written in the business transaction, published later.

A service's migration creates the table with `op.create_table("outbox", *outbox_columns())`
(its unique constraint and index come with the columns); tests use `attach_outbox(metadata)`
before `create_all`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.platform.bulk import insert_rows
from bandstand.platform.database import Database
from bandstand.platform.messaging.idempotency import (
    attach_processed_messages,
    mark_processed,
    processed_messages_columns,
)
from bandstand.platform.messaging.message import Message

__all__ = [
    "attach_outbox",
    "attach_processed_messages",
    "mark_processed",
    "outbox_columns",
    "outbox_table",
    "processed_messages_columns",
    "publish_event",
    "publish_events",
]


def outbox_columns() -> list[Column[Any]]:
    """Fresh columns of the outbox table (a Column belongs to one Table only)."""
    return [
        # BIGINT on PostgreSQL; SQLite autoincrements only an INTEGER PRIMARY KEY.
        Column(
            "id",
            BigInteger().with_variant(Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        Column("message_id", String(36), nullable=False, unique=True),
        Column("routing_key", String(255), nullable=False),
        # The work queue the message goes to; NULL for events, routed by routing_key.
        Column("queue", String(255), nullable=True),
        Column("body", Text(), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        # Serves the clean-up of published rows; the relay's claim has `UNPUBLISHED_INDEX`.
        Column("published_at", DateTime(timezone=True), nullable=True, index=True),
        Column("attempts", Integer(), nullable=False, default=0, server_default="0"),
    ]


UNPUBLISHED_INDEX = "ix_outbox_unpublished"
"""The unpublished rows in id order: the relay's claim reads its first rows and stops, where an
index of `published_at` made it collect and sort every unpublished row, and visit the dead
entries each publication leaves behind until vacuum."""
UNPUBLISHED = "published_at IS NULL"


def create_unpublished_index(operations: Any) -> None:
    """In a service's migration: `create_unpublished_index(op)`."""
    operations.create_index(
        UNPUBLISHED_INDEX,
        "outbox",
        ["id"],
        postgresql_where=text(UNPUBLISHED),
        sqlite_where=text(UNPUBLISHED),
    )


def drop_unpublished_index(operations: Any) -> None:
    operations.drop_index(UNPUBLISHED_INDEX, table_name="outbox")


def attach_outbox(metadata: MetaData) -> Table:
    """The outbox table in a service's MetaData (the existing one if already attached)."""
    if "outbox" in metadata.tables:
        return metadata.tables["outbox"]
    table = Table("outbox", metadata, *outbox_columns())
    Index(
        UNPUBLISHED_INDEX,
        table.c.id,
        postgresql_where=text(UNPUBLISHED),
        sqlite_where=text(UNPUBLISHED),
    )
    return table


outbox_table = attach_outbox(MetaData())
"""The table the platform's own statements use; any service's identical table works with it."""


async def publish_event(
    session: AsyncSession,
    type: str,
    payload: dict[str, Any],
    *,
    source: str,
    queue: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Message:
    """Add a message to the outbox within the session's transaction; the caller commits.

    Without `queue` the message is an event routed by `type`; with it, a work item for that queue.
    """
    message = Message.new(type, payload, source, headers=headers)
    await session.execute(
        insert(outbox_table).values(
            message_id=message.id,
            routing_key=message.type,
            queue=queue,
            body=message.to_json().decode(),
            created_at=message.occurred_at,
            attempts=0,
        )
    )
    return message


async def publish_events(
    session: AsyncSession,
    events: Sequence[tuple[str, dict[str, Any]]],
    *,
    source: str,
) -> list[Message]:
    """Add many events `(type, payload)` to the outbox in one statement; the caller commits."""
    messages = [Message.new(type, payload, source) for type, payload in events]
    if not messages:
        return messages
    await insert_rows(
        session,
        outbox_table,
        [
            {
                "message_id": message.id,
                "routing_key": message.type,
                "queue": None,
                "body": message.to_json().decode(),
                "created_at": message.occurred_at,
                "attempts": 0,
            }
            for message in messages
        ],
    )
    return messages


async def count_pending(database: Database) -> int:
    """Rows of `database`'s outbox the relay has not published yet."""
    statement = (
        select(func.count()).select_from(outbox_table).where(outbox_table.c.published_at.is_(None))
    )
    async with database.session() as session:
        return int((await session.execute(statement)).scalar_one())
