"""Accounts: registration, profiles and the admin's user management."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.identity import events
from bandstand.identity.models import User
from bandstand.identity.passwords import hash_password, verify_password
from bandstand.identity.repository import RefreshTokenRepository, UserRepository
from bandstand.identity.schemas import AdminUserUpdate, LegacyUserUpdate, ProfileUpdate, UserCreate
from bandstand.platform.clock import utcnow
from bandstand.platform.errors import BadRequest, Conflict, NotFound
from bandstand.platform.rows import apply_changes, changed_fields
from bandstand.platform.security import Denylist, Principal


class UsernameTaken(BadRequest):
    default_detail = "Username already exists"


class EmailTaken(BadRequest):
    default_detail = "Email already exists"


class WeakPassword(BadRequest):
    default_detail = "Password must not be the username or email"


ROLE_RANK = {"user": 0, "instructor": 1, "admin": 2}


class LastAdmin(Conflict):
    default_detail = "The last active admin cannot be demoted, deactivated or deleted"


class UserNotFound(NotFound):
    def __init__(self, user_id: int) -> None:
        super().__init__(f"User with id {user_id} not found")


def _name_taken(exc: IntegrityError) -> UsernameTaken | EmailTaken | None:
    """The domain error of a unique-index violation on users, when it is one."""
    message = str(exc.orig)
    if "uq_users_username_lower" in message:
        return UsernameTaken()
    if "uq_users_email_lower" in message:
        return EmailTaken()
    return None


def check_password_policy(password: str, username: str, email: str) -> None:
    lowered = password.lower()
    if lowered in {username.lower(), email.lower(), email.split("@")[0].lower()}:
        raise WeakPassword()


class UserService:
    def __init__(self) -> None:
        self.users = UserRepository()
        self.refresh_tokens = RefreshTokenRepository()

    async def register(
        self,
        session: AsyncSession,
        data: UserCreate,
        *,
        role: str = "user",
        actor_id: int | None = None,
    ) -> User:
        email = str(data.email)
        check_password_policy(data.password, data.username, email)
        await self._ensure_unique(session, data.username, email)
        user = User(
            username=data.username,
            email=email,
            password_hash=await hash_password(data.password),
            first_name=data.first_name,
            last_name=data.last_name,
            role=role,
            is_active=True,
        )
        await self._write(session, self.users.add(session, user))
        await events.user_registered(session, user, actor_id)
        return user

    async def get(self, session: AsyncSession, user_id: int) -> User:
        user = await self.users.get(session, user_id)
        if user is None:
            raise UserNotFound(user_id)
        return user

    async def first(self, session: AsyncSession, limit: int) -> Sequence[User]:
        return await self.users.first(session, limit)

    async def update_profile(
        self, session: AsyncSession, user: User, data: ProfileUpdate, actor: Principal
    ) -> User:
        changes = data.model_dump(exclude_unset=True, exclude_none=True)
        return await self._apply(session, user, changes, actor)

    async def update_by_admin(
        self,
        session: AsyncSession,
        user: User,
        data: AdminUserUpdate | LegacyUserUpdate,
        actor: Principal,
        revocations: Denylist,
    ) -> User:
        """An admin's change; one that takes rights away ends the user's tokens at once."""
        changes = data.model_dump(exclude_unset=True, exclude_none=True)
        demoted = ROLE_RANK[str(changes.get("role", user.role))] < ROLE_RANK[user.role]
        deactivated = changes.get("is_active") is False and user.is_active
        if (demoted and user.role == "admin") or (deactivated and user.role == "admin"):
            await self._keep_an_admin(session, user)
        password = changes.pop("password", None)
        extra: list[str] = []
        if password is not None:
            check_password_policy(
                password,
                str(changes.get("username", user.username)),
                str(changes.get("email", user.email)),
            )
            extra.append("password")
        user = await self._apply(session, user, changes, actor, extra_changes=extra)
        if password is not None:
            user.password_hash = await hash_password(password)
        if password is not None or deactivated or demoted:
            await self.refresh_tokens.revoke_user(session, user.id, utcnow())
            await revocations.revoke_user(user.id)
        await session.flush()
        return user

    async def delete(
        self, session: AsyncSession, user: User, actor: Principal, revocations: Denylist
    ) -> None:
        if user.role == "admin" and user.is_active:
            await self._keep_an_admin(session, user)
        user_id = user.id
        await revocations.revoke_user(user_id)
        await self.users.delete(session, user)
        await events.user_deleted(session, user_id, actor.id)

    async def change_password(
        self,
        session: AsyncSession,
        user: User,
        current: str,
        new: str,
        actor: Principal,
        revocations: Denylist,
    ) -> None:
        if not await verify_password(user.password_hash, current):
            raise BadRequest("Current password is incorrect")
        check_password_policy(new, user.username, user.email)
        user.password_hash = await hash_password(new)
        user.updated_at = utcnow()
        # Every other login session ends, its access tokens included; the caller's goes on.
        if actor.session_id is None:
            await self.refresh_tokens.revoke_user(session, user.id, utcnow())
            await revocations.revoke_user(user.id)
        else:
            others = await self.refresh_tokens.revoke_user(
                session, user.id, utcnow(), except_family=actor.session_id
            )
            for session_id in others:
                await revocations.revoke_session(session_id)
        await session.flush()
        await events.user_updated(session, user, ["password"], user.id)

    async def _apply(
        self,
        session: AsyncSession,
        user: User,
        changes: dict[str, object],
        actor: Principal,
        *,
        extra_changes: Sequence[str] = (),
    ) -> User:
        """Set the fields that differ, check uniqueness, and publish what changed."""
        changed = changed_fields(user, changes)
        if not changed and not extra_changes:
            return user
        if "username" in changed and await self.users.username_taken(
            session, str(changes["username"]), except_id=user.id
        ):
            raise UsernameTaken()
        if "email" in changed and await self.users.email_taken(
            session, str(changes["email"]), except_id=user.id
        ):
            raise EmailTaken()
        apply_changes(user, changes, changed)
        await self._write(session, session.flush())
        await events.user_updated(session, user, [*changed, *extra_changes], actor.id)
        return user

    @staticmethod
    async def _write(session: AsyncSession, flush: Awaitable[object]) -> None:
        """Run `flush`; a name taken by a concurrent request since the check is the same 400."""
        try:
            await flush
        except IntegrityError as exc:
            taken = _name_taken(exc)
            if taken is None:
                raise
            raise taken from exc

    async def _keep_an_admin(self, session: AsyncSession, user: User) -> None:
        if await self.users.count_active_admins(session) <= 1:
            raise LastAdmin()

    async def _ensure_unique(self, session: AsyncSession, username: str, email: str) -> None:
        if await self.users.username_taken(session, username):
            raise UsernameTaken()
        if await self.users.email_taken(session, email):
            raise EmailTaken()


user_service = UserService()
