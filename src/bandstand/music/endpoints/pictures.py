"""Event pictures: the list is public, a picture needs a user, changes need an admin."""

from __future__ import annotations

from fastapi import Request, Response

from bandstand.music.endpoints.params import PictureId
from bandstand.music.pictures import picture_service
from bandstand.music.schemas import PictureCreate, PictureRead, PictureUpdate
from bandstand.platform.lean_routes import ServiceRouter
from bandstand.platform.pagination import Page, Pagination, page_shape
from bandstand.platform.resources import AdminResource
from bandstand.platform.transactions import DBSession

router = ServiceRouter(prefix="/api/v1", tags=["pictures"])
PICTURE_PAGE = page_shape(PictureRead)


@router.get("/pictures", response_model=Page[PictureRead], summary="Event pictures")
async def list_pictures(session: DBSession, request: Request, pagination: Pagination) -> Response:
    return PICTURE_PAGE.response(await picture_service.page(session, pagination, request))


pictures = AdminResource("/pictures", "picture", PictureId, PictureRead, picture_service)
pictures.add_get(router, "One picture")
pictures.add_create(router, PictureCreate, "Add a picture (admin)")
pictures.add_update(router, PictureUpdate, "Change a picture")
pictures.add_delete(router, "Delete a picture (admin)")
