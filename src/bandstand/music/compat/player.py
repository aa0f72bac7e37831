"""The music player's inherited song and album routes (contract C), over the same services.

Its lists are bare JSON arrays of up to `?limit=` items (default 100) in id order; its 404s say
`Song with id N not found.` / `Album with id N not found.`; deleting answers 200 with a detail,
as its `DELETE /users/{id}` does.
"""

from __future__ import annotations

from fastapi import Response

from bandstand.music.endpoints.params import AlbumId, Limit, SongId
from bandstand.music.schemas import (
    AlbumCreate,
    AlbumRead,
    AlbumTrack,
    AlbumUpdate,
    DetailResponse,
    SongCreate,
    SongDetail,
    SongRead,
    SongUpdate,
)
from bandstand.music.service import album_service, song_detail, song_service
from bandstand.platform.json_response import JSONShape
from bandstand.platform.lean_routes import ServiceRouter
from bandstand.platform.resources import AdminResource
from bandstand.platform.security import AdminUser, CurrentUser, OptionalUser
from bandstand.platform.transactions import DBSession

router = ServiceRouter(tags=["music (music player compatibility)"])
SONGS = JSONShape(list[SongRead])
ALBUMS = JSONShape(list[AlbumRead])
TRACKS = JSONShape(list[AlbumTrack])


@router.get("/songs", response_model=list[SongRead], summary="The first songs by id")
async def legacy_list_songs(
    session: DBSession, viewer: OptionalUser, limit: Limit = 100
) -> Response:
    return SONGS.response(await song_service.first(session, limit, viewer.id if viewer else None))


songs = AdminResource(
    "/songs", "song", SongId, SongDetail, song_service, present=song_detail, name_prefix="legacy_"
)
songs.add_get(router, None)
songs.add_create(router, SongCreate, None)


@router.put("/songs/{song_id}", response_model=SongDetail)
async def legacy_update_song(
    song_id: SongId, data: SongUpdate, admin: AdminUser, session: DBSession
) -> SongDetail:
    song = await song_service.get(session, song_id)
    song = await song_service.update(session, song, data.changes(), admin.id)
    return await song_service.detail(session, song, admin.id)


@router.delete("/songs/{song_id}", response_model=DetailResponse)
async def legacy_delete_song(
    song_id: SongId, admin: AdminUser, session: DBSession
) -> DetailResponse:
    song = await song_service.get(session, song_id)
    await song_service.delete(session, song, admin.id)
    return DetailResponse(detail="Song deleted")


@router.get("/albums", response_model=list[AlbumRead], summary="The first albums by id")
async def legacy_list_albums(session: DBSession, limit: Limit = 100) -> Response:
    return ALBUMS.response(await album_service.first(session, limit))


albums = AdminResource("/albums", "album", AlbumId, AlbumRead, album_service, name_prefix="legacy_")
albums.add_get(router, None)


@router.get(
    "/albums/{album_id}/songs",
    response_model=list[AlbumTrack],
    summary="An album's first songs in track order",
)
async def legacy_album_songs(
    album_id: AlbumId, user: CurrentUser, session: DBSession, limit: Limit = 100
) -> Response:
    return TRACKS.response(await album_service.first_tracks(session, album_id, limit, user.id))


albums.add_create(router, AlbumCreate, None)


@router.put("/albums/{album_id}", response_model=AlbumRead)
async def legacy_update_album(
    album_id: AlbumId, data: AlbumUpdate, admin: AdminUser, session: DBSession
) -> AlbumRead:
    album = await album_service.get(session, album_id)
    album = await album_service.update(session, album, data.changes(), admin.id)
    return AlbumRead.model_validate(album)


@router.delete("/albums/{album_id}", response_model=DetailResponse)
async def legacy_delete_album(
    album_id: AlbumId, admin: AdminUser, session: DBSession
) -> DetailResponse:
    album = await album_service.get(session, album_id)
    await album_service.delete(session, album, admin.id)
    return DetailResponse(detail="Album deleted")
