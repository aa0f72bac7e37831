"""Admin's API under /api/v1 (contract D of the learning platform's admin service): the audit
log, settings, the dashboard and the deep health check. Admin role everywhere except the public
settings. Errors repeat their text under `error`; validation errors answer 400."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Request, Response, status
from fastapi.responses import JSONResponse

from bandstand.admin.health import deep_health
from bandstand.admin.schemas import (
    KEY_PATTERN,
    AuditEntryRead,
    Dashboard,
    PublicSetting,
    SettingCreate,
    SettingRead,
    SettingUpdate,
)
from bandstand.admin.service import (
    audit_filters,
    audit_service,
    dashboard_service,
    setting_service,
)
from bandstand.platform.errors import legacy_errors
from bandstand.platform.lean_routes import ServiceRouter
from bandstand.platform.pagination import Page, Pagination, page_shape, paginate
from bandstand.platform.schemas import IsoDate, StorableText
from bandstand.platform.security import AdminUser
from bandstand.platform.transactions import DBSession

router = ServiceRouter(prefix="/api/v1", tags=["admin"])

AUDIT_PAGE = page_shape(AuditEntryRead)
SETTING_PAGE = page_shape(SettingRead)
PUBLIC_SETTING_PAGE = page_shape(PublicSetting)

SettingKeyPath = Annotated[str, Path(pattern=KEY_PATTERN, description="The setting's key")]
MAX_ACTOR_ID = 2**63 - 1


def _plain(page: dict[str, Any]) -> dict[str, Any]:
    """A page of plain rows with dicts for results: the lists' pages are validated and
    written once, by their `JSONShape`."""
    page["results"] = [row._asdict() for row in page["results"]]
    return page


@router.get("/logs", response_model=Page[AuditEntryRead], summary="The audit log, newest first")
@legacy_errors("error", validation_status=400)
async def list_logs(
    _admin: AdminUser,
    session: DBSession,
    request: Request,
    pagination: Pagination,
    action: Annotated[
        str | None, StorableText(max_length=255), Query(description="Exactly this event type")
    ] = None,
    user: Annotated[
        int | None, Query(ge=0, le=MAX_ACTOR_ID, description="Entries of this acting user id")
    ] = None,
    date_from: Annotated[IsoDate | None, Query(description="On or after this UTC day")] = None,
    date_to: Annotated[IsoDate | None, Query(description="On or before this UTC day")] = None,
    service: Annotated[
        str | None, StorableText(max_length=50), Query(description="Published by this service")
    ] = None,
) -> Response:
    filters = audit_filters(
        service=service, action=action, user=user, date_from=date_from, date_to=date_to
    )
    page = await paginate(
        session,
        audit_service.listing(filters),
        pagination,
        request,
        scalars=False,
        counter=lambda: audit_service.count(session, filters),
    )
    return AUDIT_PAGE.response(_plain(page))


@router.get("/settings", response_model=Page[SettingRead], summary="Every setting (admin)")
@legacy_errors("error", validation_status=400)
async def list_settings(
    _admin: AdminUser, session: DBSession, request: Request, pagination: Pagination
) -> Response:
    statement = setting_service.listing()
    page = await paginate(session, statement, pagination, request, scalars=False)
    return SETTING_PAGE.response(_plain(page))


@router.get(
    "/settings/public", response_model=Page[PublicSetting], summary="The public settings (anyone)"
)
@legacy_errors("error", validation_status=400)
async def list_public_settings(
    session: DBSession, request: Request, pagination: Pagination
) -> Response:
    statement = setting_service.listing(public_only=True)
    page = await paginate(session, statement, pagination, request, scalars=False)
    return PUBLIC_SETTING_PAGE.response(_plain(page))


@router.post(
    "/settings",
    status_code=status.HTTP_201_CREATED,
    response_model=SettingRead,
    summary="Add a setting (admin)",
)
@legacy_errors("error", validation_status=400)
async def create_setting(
    data: SettingCreate, admin: AdminUser, session: DBSession, response: Response
) -> SettingRead:
    setting = await setting_service.create(session, data, admin.id)
    response.headers["Location"] = f"/api/v1/settings/{setting.key}"
    return SettingRead.model_validate(setting)


@router.get("/settings/{key}", response_model=SettingRead, summary="One setting (admin)")
@legacy_errors("error", validation_status=400)
async def get_setting(key: SettingKeyPath, _admin: AdminUser, session: DBSession) -> SettingRead:
    return SettingRead.model_validate(await setting_service.get(session, key))


@router.put("/settings/{key}", response_model=SettingRead, summary="Change a setting (admin)")
@router.patch("/settings/{key}", response_model=SettingRead, include_in_schema=False)
@legacy_errors("error", validation_status=400)
async def update_setting(
    key: SettingKeyPath, data: SettingUpdate, admin: AdminUser, session: DBSession
) -> SettingRead:
    setting = await setting_service.update(session, key, data, admin.id)
    return SettingRead.model_validate(setting)


@router.delete(
    "/settings/{key}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a setting (admin)"
)
@legacy_errors("error", validation_status=400)
async def delete_setting(key: SettingKeyPath, admin: AdminUser, session: DBSession) -> Response:
    await setting_service.delete(session, key, admin.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/dashboard", response_model=Dashboard, summary="The platform's figures (admin)")
@legacy_errors("error", validation_status=400)
async def dashboard(_admin: AdminUser, session: DBSession) -> Dashboard:
    return await dashboard_service.figures(session)


@router.get(
    "/health-check",
    summary="Every service, database, the broker and the cache (admin)",
    responses={503: {"description": "The platform is unhealthy"}},
)
@legacy_errors("error", validation_status=400)
async def health_check(_admin: AdminUser, request: Request) -> JSONResponse:
    status_code, body = await deep_health(
        request.app.state.runtime,
        request.app.state.database,
        service=request.app.state.service_name,
        probe_seconds=request.app.state.health_probe_timeout,
        authorization=request.headers.get("authorization"),
    )
    return JSONResponse(body, status_code=status_code)
