"""The music player's inherited auth and user routes (contract C), over the same services."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response, status

from bandstand.identity.authentication import (
    LOGIN_RESPONSES,
    Authentication,
    Client,
)
from bandstand.identity.models import User
from bandstand.identity.schemas import (
    DetailResponse,
    LegacyLoginRequest,
    LegacyLoginResponse,
    LegacyUserUpdate,
    PublicUser,
    UserCreate,
    UserRead,
)
from bandstand.identity.service import user_service
from bandstand.platform.lean_routes import ServiceRouter
from bandstand.platform.security import AdminUser, CurrentUser, Principal, Revocations
from bandstand.platform.transactions import DBSession

router = ServiceRouter(tags=["identity (music player compatibility)"])


@router.post("/auth/login", response_model=LegacyLoginResponse, responses=LOGIN_RESPONSES)
async def legacy_login(
    data: LegacyLoginRequest, session: DBSession, auth: Authentication, client: Client
) -> LegacyLoginResponse:
    issued = await auth.login(session, data.email, data.password, client)
    return LegacyLoginResponse(
        auth_token=issued.access_token, user_id=issued.user.id, role=issued.user.role
    )


def _as_seen_by(viewer: Principal, user: User) -> UserRead | PublicUser:
    """The full record for its owner and admins; only the public fields for anyone else."""
    if viewer.can_act_for(user.id):
        return UserRead.model_validate(user)
    return PublicUser.model_validate(user)


@router.get(
    "/users",
    response_model=list[UserRead | PublicUser],
    description="Every field of the caller's own record (of every record, for an admin); only "
    "`id`, `username` and the names of the others.",
)
async def legacy_list_users(
    viewer: CurrentUser,
    session: DBSession,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[UserRead | PublicUser]:
    return [_as_seen_by(viewer, user) for user in await user_service.first(session, limit)]


@router.get(
    "/users/{user_id}",
    response_model=UserRead | PublicUser,
    description="Every field for the account's owner and admins; only `id`, `username` and "
    "the names for anyone else.",
)
async def legacy_get_user(
    user_id: int, viewer: CurrentUser, session: DBSession
) -> UserRead | PublicUser:
    return _as_seen_by(viewer, await user_service.get(session, user_id))


@router.post("/users", response_model=UserRead, status_code=status.HTTP_201_CREATED)
async def legacy_register(data: UserCreate, session: DBSession, response: Response) -> UserRead:
    user = await user_service.register(session, data)
    response.headers["Location"] = f"/users/{user.id}"
    return UserRead.model_validate(user)


@router.put("/users/{user_id}", response_model=UserRead)
async def legacy_update_user(
    user_id: int,
    data: LegacyUserUpdate,
    admin: AdminUser,
    session: DBSession,
    revocations: Revocations,
) -> UserRead:
    user = await user_service.get(session, user_id)
    return UserRead.model_validate(
        await user_service.update_by_admin(session, user, data, admin, revocations)
    )


@router.delete("/users/{user_id}", response_model=DetailResponse)
async def legacy_delete_user(
    user_id: int, admin: AdminUser, session: DBSession, revocations: Revocations
) -> DetailResponse:
    user = await user_service.get(session, user_id)
    await user_service.delete(session, user, admin, revocations)
    return DetailResponse(detail="User deleted")
