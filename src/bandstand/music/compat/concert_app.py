"""The concert app's inherited song and picture routes (contract E), over the same services.

Its songs are the catalogue's songs seen as `{id, title, lyrics}`. Its clients may choose ids:
creating one that exists answers 302 with a message, as the original did. Bad input answers
400 with the message under the original's key (`message` for songs, `Message` for picture
writes). Reads are public; writes need an admin. Lists hold up to `?limit=` items (default
100) in id order.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.music.endpoints.params import Limit
from bandstand.music.models import Picture, Song
from bandstand.music.pictures import PictureIdTaken, PictureNotFound, picture_service
from bandstand.music.schemas import (
    INT_MAX,
    LegacyPicture,
    LegacyPictureCreate,
    LegacyPictureSaved,
    LegacyPictureUpdate,
    LegacySong,
    LegacySongCreate,
    LegacySongs,
    LegacySongUpdate,
)
from bandstand.music.service import SongIdTaken, SongNotFound, song_service
from bandstand.platform.errors import BadRequest, NotFound, legacy_errors
from bandstand.platform.security import AdminUser
from bandstand.platform.transactions import DBSession

router = APIRouter(tags=["music (concert app compatibility)"])

ALREADY_PRESENT: dict[int | str, dict[str, Any]] = {
    302: {"description": "A record with this id already exists"}
}


class LegacySongNotFound(NotFound):
    def __init__(self, song_id: int | str) -> None:
        super().__init__(f"ERROR: song whose id is {song_id} not found")


def _legacy_id(raw: str, kind: str) -> int:
    """The id in a legacy path: 400 unless it is a positive integer."""
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise BadRequest(f"Invalid {kind} id {raw!r}: it must be a positive integer")
    return int(text)


def _already_present(key: str, text: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"detail": text, key: text, **extra}, status_code=status.HTTP_302_FOUND)


async def _song(session: AsyncSession, raw_id: str) -> Song:
    song_id = _legacy_id(raw_id, "song")
    if song_id > INT_MAX:
        raise LegacySongNotFound(song_id)
    try:
        return await song_service.get(session, song_id)
    except SongNotFound as exc:
        raise LegacySongNotFound(song_id) from exc


async def _picture(session: AsyncSession, raw_id: str) -> Picture:
    picture_id = _legacy_id(raw_id, "picture")
    if picture_id > INT_MAX:
        raise PictureNotFound(picture_id)
    return await picture_service.get(session, picture_id)


def _saved(message: str, picture: Picture) -> LegacyPictureSaved:
    return LegacyPictureSaved(
        Message=message, picture=LegacyPicture.model_validate(picture), id=picture.id
    )


@router.get("/song", response_model=LegacySongs, summary="Songs as {id, title, lyrics}")
@legacy_errors("message", validation_status=400)
async def legacy_songs(session: DBSession, limit: Limit = 100) -> LegacySongs:
    rows = await song_service.songs.first_with_lyrics(session, limit)
    return LegacySongs(songs=[LegacySong.model_validate(row) for row in rows])


@router.get("/song/{song_id}", response_model=LegacySong)
@legacy_errors("message", validation_status=400)
async def legacy_song(song_id: str, session: DBSession) -> LegacySong:
    return LegacySong.model_validate(await _song(session, song_id))


@router.post(
    "/song",
    response_model=LegacySong,
    status_code=status.HTTP_201_CREATED,
    responses=ALREADY_PRESENT,
)
@legacy_errors("message", validation_status=400)
async def legacy_create_song(
    data: LegacySongCreate, admin: AdminUser, session: DBSession, response: Response
) -> LegacySong | JSONResponse:
    try:
        song = await song_service.create_legacy(session, data, admin.id)
    except SongIdTaken as exc:
        return _already_present("message", exc.detail)
    response.headers["Location"] = f"/song/{song.id}"
    return LegacySong.model_validate(song)


@router.put("/song/{song_id}", response_model=LegacySong)
@legacy_errors("message", validation_status=400)
async def legacy_update_song(
    song_id: str, data: LegacySongUpdate, admin: AdminUser, session: DBSession
) -> LegacySong:
    song = await _song(session, song_id)
    song = await song_service.update(session, song, data.changes(), admin.id)
    return LegacySong.model_validate(song)


@router.delete("/song/{song_id}", status_code=status.HTTP_204_NO_CONTENT)
@legacy_errors("message", validation_status=400)
async def legacy_delete_song(song_id: str, admin: AdminUser, session: DBSession) -> Response:
    try:
        song = await _song(session, song_id)
    except LegacySongNotFound as exc:
        raise NotFound("Song not found") from exc
    await song_service.delete(session, song, admin.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/picture", response_model=list[LegacyPicture], summary="Event pictures")
@legacy_errors("message", validation_status=400)
async def legacy_pictures(session: DBSession, limit: Limit = 100) -> list[LegacyPicture]:
    pictures = await picture_service.first(session, limit)
    return [LegacyPicture.model_validate(picture) for picture in pictures]


@router.get("/picture/{picture_id}", response_model=LegacyPicture)
@legacy_errors("message", validation_status=400)
async def legacy_picture(picture_id: str, session: DBSession) -> LegacyPicture:
    return LegacyPicture.model_validate(await _picture(session, picture_id))


@router.post(
    "/picture",
    response_model=LegacyPictureSaved,
    status_code=status.HTTP_201_CREATED,
    responses=ALREADY_PRESENT,
)
@legacy_errors("Message", validation_status=400)
async def legacy_create_picture(
    data: LegacyPictureCreate, admin: AdminUser, session: DBSession, response: Response
) -> LegacyPictureSaved | JSONResponse:
    try:
        picture = await picture_service.create(
            session, data.picture(), admin.id, picture_id=data.id
        )
    except PictureIdTaken as exc:
        assert data.id is not None
        existing = LegacyPicture.model_validate(await picture_service.get(session, data.id))
        return _already_present(
            "Message", exc.detail, picture=existing.model_dump(mode="json"), id=data.id
        )
    response.headers["Location"] = f"/picture/{picture.id}"
    return _saved("Picture added successfully", picture)


@router.put(
    "/picture/{picture_id}",
    response_model=LegacyPictureSaved,
    summary="Change a picture, or create it with this id when there is none",
)
@legacy_errors("Message", validation_status=400)
async def legacy_put_picture(
    picture_id: str, data: LegacyPictureUpdate, admin: AdminUser, session: DBSession
) -> LegacyPictureSaved:
    number = _legacy_id(picture_id, "picture")
    if number > INT_MAX:
        raise BadRequest(f"Invalid picture id {picture_id!r}: at most {INT_MAX}")
    picture = await picture_service.put(session, number, data.changes(), admin.id)
    return _saved("Picture updated successfully", picture)


@router.delete("/picture/{picture_id}", status_code=status.HTTP_204_NO_CONTENT)
@legacy_errors("message", validation_status=400)
async def legacy_delete_picture(picture_id: str, admin: AdminUser, session: DBSession) -> Response:
    picture = await _picture(session, picture_id)
    await picture_service.delete(session, picture, admin.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
