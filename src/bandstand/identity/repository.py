"""Every query identity runs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.identity.models import RefreshToken, User
from bandstand.platform.pagination import kept_statements
from bandstand.platform.rows import RowWrites
from bandstand.platform.text_search import escape_like

LISTED: tuple[Any, ...] = (
    User.id,
    User.username,
    User.email,
    User.first_name,
    User.last_name,
    User.role,
    User.is_active,
    User.created_at,
    User.updated_at,
)
"""A listed user's columns: `UserRead`'s fields (never the password's hash), as plain rows."""


@kept_statements
def _user_listing(search: str | None, role: str | None) -> Select[Any]:
    statement = select(*LISTED).order_by(User.id)
    if search:
        pattern = f"%{escape_like(search.lower())}%"
        statement = statement.where(
            or_(
                func.lower(User.username).like(pattern, escape="\\"),
                func.lower(User.email).like(pattern, escape="\\"),
                func.lower(User.first_name).like(pattern, escape="\\"),
                func.lower(User.last_name).like(pattern, escape="\\"),
            )
        )
    if role:
        statement = statement.where(User.role == role)
    return statement


class UserRepository(RowWrites[User]):
    async def get(self, session: AsyncSession, user_id: int) -> User | None:
        return await session.get(User, user_id)

    async def by_login(self, session: AsyncSession, login: str) -> User | None:
        """The user whose username or email is `login`, ignoring case."""
        lowered = login.strip().lower()
        column = User.email if "@" in lowered else User.username
        statement = select(User).where(func.lower(column) == lowered)
        user = (await session.execute(statement)).scalar_one_or_none()
        if user is None and "@" in lowered:
            # usernames may contain "@" too
            statement = select(User).where(func.lower(User.username) == lowered)
            user = (await session.execute(statement)).scalar_one_or_none()
        return user

    async def username_taken(
        self, session: AsyncSession, username: str, *, except_id: int | None = None
    ) -> bool:
        return await self._taken(session, User.username, username, except_id)

    async def email_taken(
        self, session: AsyncSession, email: str, *, except_id: int | None = None
    ) -> bool:
        return await self._taken(session, User.email, email, except_id)

    async def _taken(
        self, session: AsyncSession, column: object, value: str, except_id: int | None
    ) -> bool:
        statement = select(User.id).where(func.lower(column) == value.lower())
        if except_id is not None:
            statement = statement.where(User.id != except_id)
        return (await session.execute(statement.limit(1))).first() is not None

    async def count_active_admins(self, session: AsyncSession) -> int:
        statement = select(func.count(User.id)).where(User.role == "admin", User.is_active)
        return int((await session.execute(statement)).scalar_one())

    def listing(self, *, search: str | None = None, role: str | None = None) -> Select[Any]:
        """The users the filters keep, by id, as plain rows of `LISTED`."""
        return _user_listing(search, role)

    async def first(self, session: AsyncSession, limit: int) -> Sequence[User]:
        statement = select(User).order_by(User.id).limit(limit)
        return (await session.execute(statement)).scalars().all()


class RefreshTokenRepository:
    async def by_hash(self, session: AsyncSession, token_hash: str) -> RefreshToken | None:
        statement = select(RefreshToken).where(RefreshToken.token_hash == token_hash)
        return (await session.execute(statement)).scalar_one_or_none()

    async def add(self, session: AsyncSession, token: RefreshToken) -> None:
        session.add(token)
        await session.flush()

    async def mark_used(self, session: AsyncSession, token_id: int, when: datetime) -> bool:
        """Claim a token for rotation; False when another request used it first."""
        statement = (
            update(RefreshToken)
            .where(RefreshToken.id == token_id, RefreshToken.used_at.is_(None))
            .values(used_at=when)
        )
        result = await session.execute(statement)
        return bool(getattr(result, "rowcount", 0))

    async def revoke_family(self, session: AsyncSession, family_id: str, when: datetime) -> None:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=when)
        )

    async def revoke_user(
        self,
        session: AsyncSession,
        user_id: int,
        when: datetime,
        *,
        except_family: str | None = None,
    ) -> list[str]:
        """Revoke the user's refresh tokens (but those of `except_family`); returns the login
        sessions that still had one unexpired, whose access tokens may be alive."""
        live = (
            select(RefreshToken.family_id)
            .where(RefreshToken.user_id == user_id, RefreshToken.expires_at > when)
            .distinct()
        )
        revoke = update(RefreshToken).where(
            RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None)
        )
        if except_family is not None:
            live = live.where(RefreshToken.family_id != except_family)
            revoke = revoke.where(RefreshToken.family_id != except_family)
        families = list((await session.execute(live)).scalars())
        await session.execute(revoke.values(revoked_at=when))
        return families
