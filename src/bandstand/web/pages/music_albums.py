"""Pages: the albums, and one album whose tracks play in order."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import Path, Query
from starlette.responses import Response

from bandstand.platform.lean_routes import ServiceRouter
from bandstand.web.pages.present import HELPERS, INT_MAX, local_media
from bandstand.web.visit import PageVisit

router = ServiceRouter(include_in_schema=False)

ALBUMS_PER_PAGE = 12
TRACKS_PER_PAGE = 100
PageNumber = Annotated[int, Query(ge=1, le=100_000)]
AlbumId = Annotated[int, Path(ge=1, le=INT_MAX)]


@router.get("/music/albums")
async def albums_page(
    visit: PageVisit,
    page: PageNumber = 1,
    search: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    search = (search or "").strip() or None
    albums = await visit.get(
        "/api/v1/albums",
        {"page": page, "page_size": ALBUMS_PER_PAGE, "search": search, "ordering": "title"},
    )
    return visit.page("music/albums.html", albums=albums, page=page, search=search or "", **HELPERS)


@router.get("/music/albums/{album_id}")
async def album_page(visit: PageVisit, album_id: AlbumId, page: PageNumber = 1) -> Response:
    album, tracks = await asyncio.gather(
        visit.get(f"/api/v1/albums/{album_id}"),
        visit.get(f"/api/v1/albums/{album_id}/songs", {"page": page, "page_size": TRACKS_PER_PAGE}),
    )
    rows: list[dict[str, Any]] = tracks["results"]
    return visit.page(
        "music/album.html",
        album=album,
        tracks=tracks,
        page=page,
        playlist=[row for row in rows if local_media(row.get("file_url"))],
        total_seconds=sum(int(row.get("duration") or 0) for row in rows),
        **HELPERS,
    )
