"""Albums and their tracks: the list is public, the rest needs a user, changes need an admin."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query, Request, Response, status

from bandstand.music.endpoints.params import AlbumId, Artist, Genre, Search, SongId
from bandstand.music.schemas import (
    INT_MAX,
    AlbumCreate,
    AlbumRead,
    AlbumTrack,
    AlbumUpdate,
    SongAlbum,
    TrackCreate,
)
from bandstand.music.service import album_service
from bandstand.platform.lean_routes import ServiceRouter
from bandstand.platform.pagination import Page, Pagination, page_shape
from bandstand.platform.resources import AdminResource
from bandstand.platform.security import AdminUser, CurrentUser
from bandstand.platform.transactions import DBSession

router = ServiceRouter(prefix="/api/v1", tags=["albums"])


class AlbumPage(Page[AlbumRead | SongAlbum]):
    """A page of albums: `SongAlbum`s (with a track number) when the list is of a song's."""


ALBUM_PAGE = page_shape(AlbumRead)
SONG_ALBUM_PAGE = page_shape(SongAlbum)
TRACK_PAGE = page_shape(AlbumTrack)


@router.get(
    "/albums",
    response_model=AlbumPage,
    summary="Albums, filtered and ordered",
    description="With `song`, the albums that song is on, each with the song's `track_number` "
    "there; an unknown song is on no album (an empty page, not a 404).",
)
async def list_albums(
    session: DBSession,
    request: Request,
    pagination: Pagination,
    search: Search = None,
    genre: Genre = None,
    artist: Artist = None,
    ordering: Annotated[
        Literal["title", "-title"] | None, Query(description="Sort key (default: id)")
    ] = None,
    song: Annotated[
        int | None, Query(ge=1, le=INT_MAX, description="Only albums this song is on")
    ] = None,
) -> Response:
    page = await album_service.page(
        session,
        pagination,
        request,
        search=search,
        genre=genre,
        artist=artist,
        ordering=ordering,
        song=song,
    )
    return (ALBUM_PAGE if song is None else SONG_ALBUM_PAGE).response(page)


albums = AdminResource("/albums", "album", AlbumId, AlbumRead, album_service)
albums.add_get(router, "One album")
albums.add_create(router, AlbumCreate, "Add an album (admin)")
albums.add_update(router, AlbumUpdate, "Change an album (admin)")
albums.add_delete(router, "Delete an album (admin); its songs stay in the catalogue")


@router.get(
    "/albums/{album_id}/songs",
    response_model=Page[AlbumTrack],
    summary="An album's songs in track order",
)
async def list_tracks(
    album_id: AlbumId,
    user: CurrentUser,
    session: DBSession,
    request: Request,
    pagination: Pagination,
) -> Response:
    page = await album_service.tracks_page(session, album_id, pagination, request, user.id)
    return TRACK_PAGE.response(page)


@router.post(
    "/albums/{album_id}/songs",
    response_model=AlbumTrack,
    status_code=status.HTTP_201_CREATED,
    summary="Put a song on an album at a track number (admin)",
)
async def add_track(
    album_id: AlbumId,
    data: TrackCreate,
    admin: AdminUser,
    session: DBSession,
    response: Response,
) -> AlbumTrack:
    track = await album_service.add_track(session, album_id, data, admin.id)
    response.headers["Location"] = f"/api/v1/albums/{album_id}/songs/{track.id}"
    return track


@router.get(
    "/albums/{album_id}/songs/{song_id}",
    response_model=AlbumTrack,
    summary="One song of an album, with its track number",
)
async def get_track(
    album_id: AlbumId, song_id: SongId, user: CurrentUser, session: DBSession
) -> AlbumTrack:
    return await album_service.track(session, album_id, song_id, user.id)


@router.delete(
    "/albums/{album_id}/songs/{song_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Take a song off an album (admin); the song stays in the catalogue",
)
async def remove_track(
    album_id: AlbumId, song_id: SongId, admin: AdminUser, session: DBSession
) -> Response:
    await album_service.remove_track(session, album_id, song_id, admin.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
