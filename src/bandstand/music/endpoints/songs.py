"""Songs and likes: lists are public, a song's details need a user, changes need an admin, and
a like is always the caller's own."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status

from bandstand.music.endpoints.params import Artist, Genre, Search, SongId
from bandstand.music.repository import SongFilters
from bandstand.music.schemas import (
    INT_MAX,
    LikedSong,
    LikeStatus,
    SongCreate,
    SongDetail,
    SongOrdering,
    SongRead,
    SongUpdate,
)
from bandstand.music.service import song_service
from bandstand.platform.pagination import Page, Pagination
from bandstand.platform.security import AdminUser, CurrentUser, OptionalUser
from bandstand.platform.transactions import DBSession

router = APIRouter(prefix="/api/v1", tags=["songs"])


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
) -> dict[str, Any]:
    filters = SongFilters(search=search, genre=genre, artist=artist, album=album, ordering=ordering)
    viewer_id = viewer.id if viewer else None
    return await song_service.page(session, filters, pagination, request, viewer_id)


@router.get("/songs/{song_id}", response_model=SongDetail, summary="One song, with its lyrics")
async def get_song(song_id: SongId, user: CurrentUser, session: DBSession) -> SongDetail:
    song = await song_service.get(session, song_id)
    return await song_service.detail(session, song, user.id)


@router.post(
    "/songs",
    response_model=SongDetail,
    status_code=status.HTTP_201_CREATED,
    summary="Add a song (admin)",
)
async def create_song(
    data: SongCreate, admin: AdminUser, session: DBSession, response: Response
) -> SongDetail:
    song = await song_service.create(session, data, admin.id)
    response.headers["Location"] = f"/api/v1/songs/{song.id}"
    return await song_service.detail(session, song, admin.id)


@router.put("/songs/{song_id}", response_model=SongDetail, summary="Change a song (admin)")
@router.patch("/songs/{song_id}", response_model=SongDetail, include_in_schema=False)
async def update_song(
    song_id: SongId, data: SongUpdate, admin: AdminUser, session: DBSession
) -> SongDetail:
    song = await song_service.get(session, song_id)
    song = await song_service.update(session, song, data.changes(), admin.id)
    return await song_service.detail(session, song, admin.id)


@router.delete(
    "/songs/{song_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a song (admin)"
)
async def delete_song(song_id: SongId, admin: AdminUser, session: DBSession) -> Response:
    song = await song_service.get(session, song_id)
    await song_service.delete(session, song, admin.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


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
) -> dict[str, Any]:
    return await song_service.liked_page(session, user.id, pagination, request)
