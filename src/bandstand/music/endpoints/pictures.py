"""Event pictures: the list is public, a picture needs a user, changes need an admin."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status

from bandstand.music.endpoints.params import PictureId
from bandstand.music.pictures import picture_service
from bandstand.music.schemas import PictureCreate, PictureRead, PictureUpdate
from bandstand.platform.pagination import Page, Pagination
from bandstand.platform.security import AdminUser, CurrentUser
from bandstand.platform.transactions import DBSession

router = APIRouter(prefix="/api/v1", tags=["pictures"])


@router.get("/pictures", response_model=Page[PictureRead], summary="Event pictures")
async def list_pictures(
    session: DBSession, request: Request, pagination: Pagination
) -> dict[str, Any]:
    return await picture_service.page(session, pagination, request)


@router.get("/pictures/{picture_id}", response_model=PictureRead, summary="One picture")
async def get_picture(picture_id: PictureId, _user: CurrentUser, session: DBSession) -> PictureRead:
    return PictureRead.model_validate(await picture_service.get(session, picture_id))


@router.post(
    "/pictures",
    response_model=PictureRead,
    status_code=status.HTTP_201_CREATED,
    summary="Add a picture (admin)",
)
async def create_picture(
    data: PictureCreate, admin: AdminUser, session: DBSession, response: Response
) -> PictureRead:
    picture = await picture_service.create(session, data, admin.id)
    response.headers["Location"] = f"/api/v1/pictures/{picture.id}"
    return PictureRead.model_validate(picture)


@router.put("/pictures/{picture_id}", response_model=PictureRead, summary="Change a picture")
@router.patch("/pictures/{picture_id}", response_model=PictureRead, include_in_schema=False)
async def update_picture(
    picture_id: PictureId, data: PictureUpdate, admin: AdminUser, session: DBSession
) -> PictureRead:
    picture = await picture_service.get(session, picture_id)
    picture = await picture_service.update(session, picture, data.changes(), admin.id)
    return PictureRead.model_validate(picture)


@router.delete(
    "/pictures/{picture_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a picture (admin)",
)
async def delete_picture(picture_id: PictureId, admin: AdminUser, session: DBSession) -> Response:
    picture = await picture_service.get(session, picture_id)
    await picture_service.delete(session, picture, admin.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
