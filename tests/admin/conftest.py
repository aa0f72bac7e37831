"""Admin's test fixtures: the service harness with tokens for an admin and a user, and helpers to
feed it events and look at what it stored."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

import bandstand.admin
from bandstand.admin.app import create_app
from bandstand.admin.events import AUDIT_QUEUE, record_events
from bandstand.admin.models import AdminBase, AuditEntry, Setting
from bandstand.platform.messaging import Message
from tests.support.harness import Headers, ServiceHarness

MIGRATIONS = Path(bandstand.admin.__file__).parent / "migrations"
ADMIN_ID = 1
ALICE_ID = 2


def event(
    type_: str,
    payload: dict[str, Any] | None = None,
    *,
    at: datetime | None = None,
    source: str | None = None,
) -> Message:
    """An event as a service publishes it, optionally dated."""
    message = Message.new(type_, dict(payload or {}), source or type_.split(".")[0])
    if at is None:
        return message
    return Message(message.id, message.type, at, message.payload, message.source)


class Admin(ServiceHarness):
    """The running admin app, its database, and tokens for an admin and a user."""

    name = "admin"
    app_factory = create_app
    migrations = MIGRATIONS
    metadata = AdminBase.metadata
    users = {"admin": (ADMIN_ID, "admin"), "alice": (ALICE_ID, "user")}
    admin: Headers
    alice: Headers

    async def record(self, messages: Sequence[Message]) -> None:
        """Hand events to the audit consumer's handler directly (no broker), in one batch."""
        async with self.session() as session:
            await record_events(session, messages)

    async def subscribed(self) -> None:
        async with asyncio.timeout(10):
            await self.app.state.subscriptions.wait_subscribed()

    async def consumed(self) -> bool:
        return await self.broker.queue_depth(AUDIT_QUEUE) == 0

    async def entry_count(self) -> int:
        return await self.count(AuditEntry)

    async def entries(self) -> list[AuditEntry]:
        async with self.database.session() as session:
            statement = select(AuditEntry).order_by(AuditEntry.id)
            return list((await session.execute(statement)).scalars())

    async def settings_snapshot(self) -> list[tuple[str, str, str, bool]]:
        async with self.database.session() as session:
            rows = await session.execute(
                select(Setting.key, Setting.value, Setting.description, Setting.is_public).order_by(
                    Setting.key
                )
            )
            return [(str(k), str(v), str(d), bool(p)) for k, v, d, p in rows]


admin_database_url, admin_settings, admin, client = Admin.fixtures()
running_admin = Admin.running
