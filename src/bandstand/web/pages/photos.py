"""Pages: the event pictures, as a gallery."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from starlette.responses import Response

from bandstand.platform.lean_routes import ServiceRouter
from bandstand.web.pages.present import HELPERS
from bandstand.web.visit import PageVisit

router = ServiceRouter(include_in_schema=False)

PICTURES_PER_PAGE = 12


@router.get("/photos")
async def photos_page(
    visit: PageVisit, page: Annotated[int, Query(ge=1, le=100_000)] = 1
) -> Response:
    pictures = await visit.get("/api/v1/pictures", {"page": page, "page_size": PICTURES_PER_PAGE})
    return visit.page("photos/photos.html", pictures=pictures, page=page, **HELPERS)
