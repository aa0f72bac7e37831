"""The music player's inherited song and album routes (contract C), over the same services.

Its lists are bare JSON arrays of up to `?limit=` items (default 100) in id order; its 404s say
`Song with id N not found.` / `Album with id N not found.`; deleting answers 200 with a detail,
as its `DELETE /users/{id}` does.
"""

from __future__ import annotations

from fastapi import APIRouter, Response, status

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
from bandstand.music.service import album_service, song_service
from bandstand.platform.security import AdminUser, CurrentUser, OptionalUser
from bandstand.platform.transactions import DBSession

router = APIRouter(tags=["music (music player compatibility)"])


@router.get("/songs", response_model=list[SongRead], summary="The first songs by id")
async def legacy_list_songs(
    session: DBSession, viewer: OptionalUser, limit: Limit = 100
) -> list[SongRead]:
    return await song_service.first(session, limit, viewer.id if viewer else None)


@router.get("/songs/{song_id}", response_model=SongDetail)
async def legacy_get_song(song_id: SongId, user: CurrentUser, session: DBSession) -> SongDetail:
    song = await song_service.get(session, song_id)
    return await song_service.detail(session, song, user.id)


@router.post("/songs", response_model=SongDetail, status_code=status.HTTP_201_CREATED)
async def legacy_create_song(
    data: SongCreate, admin: AdminUser, session: DBSession, response: Response
) -> SongDetail:
    song = await song_service.create(session, data, admin.id)
    response.headers["Location"] = f"/songs/{song.id}"
    return await song_service.detail(session, song, admin.id)


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
async def legacy_list_albums(session: DBSession, limit: Limit = 100) -> list[AlbumRead]:
    return await album_service.first(session, limit)


@router.get("/albums/{album_id}", response_model=AlbumRead)
async def legacy_get_album(album_id: AlbumId, _user: CurrentUser, session: DBSession) -> AlbumRead:
    return AlbumRead.model_validate(await album_service.get(session, album_id))


@router.get(
    "/albums/{album_id}/songs",
    response_model=list[AlbumTrack],
    summary="An album's first songs in track order",
)
async def legacy_album_songs(
    album_id: AlbumId, user: CurrentUser, session: DBSession, limit: Limit = 100
) -> list[AlbumTrack]:
    return await album_service.first_tracks(session, album_id, limit, user.id)


@router.post("/albums", response_model=AlbumRead, status_code=status.HTTP_201_CREATED)
async def legacy_create_album(
    data: AlbumCreate, admin: AdminUser, session: DBSession, response: Response
) -> AlbumRead:
    album = await album_service.create(session, data, admin.id)
    response.headers["Location"] = f"/albums/{album.id}"
    return AlbumRead.model_validate(album)


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
