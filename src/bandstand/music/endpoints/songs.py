"""Songs and likes: lists are public, a song's details need a user, changes need an admin, and
a like is always the caller's own."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response, status

from bandstand.music.endpoints.params import Artist, Genre, Search, SongId
from bandstand.music.repository import SongFilters
from bandstand.music.schemas import (
    INT_MAX,
    LikedSong,
    LikeStatus,
    SongCreate,
    SongDetail,
    SongFacets,
    SongOrdering,
    SongRead,
    SongUpdate,
)
from bandstand.music.service import song_detail, song_service
from bandstand.platform.lean_routes import ServiceRouter
from bandstand.platform.pagination import Page, Pagination, page_shape
from bandstand.platform.resources import AdminResource
from bandstand.platform.security import CurrentUser, OptionalUser
from bandstand.platform.transactions import DBSession

router = ServiceRouter(prefix="/api/v1", tags=["songs"])
SONG_PAGE = page_shape(SongRead)
LIKED_PAGE = page_shape(LikedSong)


@router.get("/songs", response_model=Page[SongRead], summary="Songs, filtered and ordered")
async def list_songs(
    session: DBSession,
    request: Request,
    pagination: Pagination,
    viewer: OptionalUser,
    search: Search = None,
    genre: Genre = None,
    artist: Artist = None,
    album: Annotated[
        int | None, Query(ge=1, le=INT_MAX, description="Only songs on this album")
    ] = None,
    ordering: Annotated[
        SongOrdering | None, Query(description="Sort key; `-` for descending (default: id)")
    ] = None,
) -> Response:
    filters = SongFilters(search=search, genre=genre, artist=artist, album=album, ordering=ordering)
    viewer_id = viewer.id if viewer else None
    return SONG_PAGE.response(
        await song_service.page(session, filters, pagination, request, viewer_id)
    )


# Before `/songs/{song_id}`, which would take `facets` for an id.
@router.get(
    "/songs/facets",
    response_model=SongFacets,
    summary="The genres and artists of the songs, with their numbers of songs",
)
async def song_facets(session: DBSession, request: Request) -> SongFacets:
    return await song_service.facets(session, request)


songs = AdminResource("/songs", "song", SongId, SongDetail, song_service, present=song_detail)
songs.add_get(router, "One song, with its lyrics")
songs.add_create(router, SongCreate, "Add a song (admin)")
songs.add_update(router, SongUpdate, "Change a song (admin)")
songs.add_delete(router, "Delete a song (admin)")


@router.put("/songs/{song_id}/like", response_model=LikeStatus, summary="Like a song (idempotent)")
async def like_song(song_id: SongId, user: CurrentUser, session: DBSession) -> LikeStatus:
    return await song_service.like(session, song_id, user.id)


@router.delete(
    "/songs/{song_id}/like",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Take back a like (idempotent)",
)
async def unlike_song(song_id: SongId, user: CurrentUser, session: DBSession) -> Response:
    await song_service.unlike(session, song_id, user.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/me/likes", response_model=Page[LikedSong], summary="The caller's liked songs, latest first"
)
async def my_likes(
    user: CurrentUser, session: DBSession, request: Request, pagination: Pagination
) -> Response:
    return LIKED_PAGE.response(await song_service.liked_page(session, user.id, pagination, request))
