"""Events identity publishes (through the outbox, in the business transaction)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.identity.models import User
from bandstand.platform.messaging.outbox import publish_event

SOURCE = "identity"
USER_REGISTERED = "identity.user.registered"
USER_UPDATED = "identity.user.updated"
USER_DELETED = "identity.user.deleted"
USER_LOGGED_IN = "identity.user.logged_in"


def _user_fields(user: User) -> dict[str, Any]:
    return {"user_id": user.id, "username": user.username, "email": user.email, "role": user.role}


async def user_registered(session: AsyncSession, user: User, actor_id: int | None) -> None:
    payload = {**_user_fields(user), "actor_id": actor_id}
    await publish_event(session, USER_REGISTERED, payload, source=SOURCE)


async def user_updated(
    session: AsyncSession, user: User, changed: list[str], actor_id: int | None
) -> None:
    payload = {**_user_fields(user), "changed": changed, "actor_id": actor_id}
    await publish_event(session, USER_UPDATED, payload, source=SOURCE)


async def user_deleted(session: AsyncSession, user_id: int, actor_id: int | None) -> None:
    payload = {"user_id": user_id, "actor_id": actor_id}
    await publish_event(session, USER_DELETED, payload, source=SOURCE)


async def user_logged_in(
    session: AsyncSession, user: User, ip_address: str | None, user_agent: str | None
) -> None:
    payload = {
        **_user_fields(user),
        "actor_id": user.id,
        "ip_address": ip_address,
        "user_agent": user_agent,
    }
    await publish_event(session, USER_LOGGED_IN, payload, source=SOURCE)
