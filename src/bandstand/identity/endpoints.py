"""Identity's canonical API under /api/v1 (the learning platform's routes are part of it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response, status

from bandstand.identity.authentication import (
    LOGIN_RESPONSES,
    Authentication,
    Client,
)
from bandstand.identity.schemas import (
    AdminUserUpdate,
    LoginRequest,
    LoginResponse,
    LogoutRequest,
    MessageResponse,
    PasswordChange,
    ProfileResponse,
    ProfileUpdate,
    ProfileUpdated,
    RefreshRequest,
    RegisterResponse,
    Role,
    TokenPair,
    UserCreate,
    UserRead,
    UserSummary,
)
from bandstand.identity.service import user_service
from bandstand.identity.tokens import JWKS_SCHEMA, KeyStore
from bandstand.platform.errors import legacy_errors
from bandstand.platform.lean_routes import ServiceRouter
from bandstand.platform.pagination import Page, Pagination, page_shape, paginate
from bandstand.platform.schemas import StorableText
from bandstand.platform.security import AdminUser, CurrentUser, Revocations
from bandstand.platform.transactions import DBSession

router = ServiceRouter(prefix="/api/v1", tags=["identity"])
USER_PAGE = page_shape(UserRead)
keys_router = ServiceRouter(tags=["identity"])


@keys_router.get(
    "/.well-known/jwks.json",
    summary="Public keys that verify access tokens",
    response_class=Response,
    responses={200: {"content": {"application/json": {"schema": JWKS_SCHEMA}}}},
)
async def jwks(request: Request) -> Response:
    # Every service fetches this; the document is serialised once, not per request.
    keys: KeyStore = request.app.state.keys
    return Response(
        keys.jwks_json,
        media_type="application/json",
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=RegisterResponse,
    summary="Create an account (role user)",
)
@legacy_errors("error", validation_status=400)
async def register(data: UserCreate, session: DBSession, response: Response) -> RegisterResponse:
    user = await user_service.register(session, data)
    response.headers["Location"] = f"/api/v1/users/{user.id}"
    return RegisterResponse(user=UserRead.model_validate(user))


@router.post(
    "/login",
    response_model=LoginResponse,
    summary="Log in with username or email",
    responses=LOGIN_RESPONSES,
)
@legacy_errors("error", validation_status=400)
async def login(
    data: LoginRequest, session: DBSession, auth: Authentication, client: Client
) -> LoginResponse:
    issued = await auth.login(session, data.login, data.password, client)
    return LoginResponse(
        token=issued.access_token,
        access_token=issued.access_token,
        refresh_token=issued.refresh_token,
        expires_in=issued.expires_in,
        user=UserSummary.model_validate(issued.user),
    )


@router.post("/token/refresh", response_model=TokenPair, summary="Rotate a refresh token")
async def refresh(data: RefreshRequest, session: DBSession, auth: Authentication) -> TokenPair:
    issued = await auth.refresh(session, data.refresh_token)
    return TokenPair(
        access_token=issued.access_token,
        refresh_token=issued.refresh_token,
        expires_in=issued.expires_in,
    )


@router.post("/logout", response_model=MessageResponse, summary="End this login session")
@legacy_errors("error", validation_status=400)
async def logout(
    principal: CurrentUser,
    session: DBSession,
    auth: Authentication,
    data: LogoutRequest | None = None,
) -> MessageResponse:
    await auth.logout(session, principal, data.refresh_token if data else None)
    return MessageResponse(message="Logout successful")


@router.get("/profile", response_model=ProfileResponse, summary="The caller's account")
async def get_profile(principal: CurrentUser, session: DBSession) -> ProfileResponse:
    user = await user_service.get(session, principal.id)
    return ProfileResponse(user=UserRead.model_validate(user))


@router.put("/profile", response_model=ProfileUpdated, summary="Update the caller's account")
@router.patch("/profile", response_model=ProfileUpdated, include_in_schema=False)
@legacy_errors("error", validation_status=400)
async def update_profile(
    data: ProfileUpdate, principal: CurrentUser, session: DBSession
) -> ProfileUpdated:
    user = await user_service.get(session, principal.id)
    user = await user_service.update_profile(session, user, data, principal)
    return ProfileUpdated(user=UserRead.model_validate(user))


@router.post(
    "/profile/password", response_model=MessageResponse, summary="Change the caller's password"
)
@legacy_errors("error", validation_status=400)
async def change_password(
    data: PasswordChange, principal: CurrentUser, session: DBSession, revocations: Revocations
) -> MessageResponse:
    user = await user_service.get(session, principal.id)
    await user_service.change_password(
        session, user, data.current_password, data.new_password, principal, revocations
    )
    return MessageResponse(message="Password changed successfully")


@router.get("/users", response_model=Page[UserRead], summary="All users (admin)")
async def list_users(
    _admin: AdminUser,
    session: DBSession,
    request: Request,
    pagination: Pagination,
    search: Annotated[str | None, StorableText(max_length=100), Query()] = None,
    role: Role | None = None,
) -> Response:
    statement = user_service.users.listing(search=search, role=role)
    page = await paginate(session, statement, pagination, request, scalars=False)
    page["results"] = [row._asdict() for row in page["results"]]
    return USER_PAGE.response(page)


@router.get("/users/{user_id}", response_model=UserRead, summary="One user (admin)")
async def get_user(user_id: int, _admin: AdminUser, session: DBSession) -> UserRead:
    return UserRead.model_validate(await user_service.get(session, user_id))


@router.put("/users/{user_id}", response_model=UserRead, summary="Change a user (admin)")
@router.patch("/users/{user_id}", response_model=UserRead, include_in_schema=False)
async def update_user(
    user_id: int,
    data: AdminUserUpdate,
    admin: AdminUser,
    session: DBSession,
    revocations: Revocations,
) -> UserRead:
    user = await user_service.get(session, user_id)
    user = await user_service.update_by_admin(session, user, data, admin, revocations)
    return UserRead.model_validate(user)


@router.delete(
    "/users/{user_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a user (admin)"
)
async def delete_user(
    user_id: int, admin: AdminUser, session: DBSession, revocations: Revocations
) -> Response:
    user = await user_service.get(session, user_id)
    await user_service.delete(session, user, admin, revocations)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
