"""The concert app's inherited song and picture routes (contract E), over the same services.

Its songs are the catalogue's songs seen as `{id, title, lyrics}` (plus `_id`, standing in for
the Mongo id the original sent). Its clients may choose ids: creating one that exists answers
302 with a message, as the original did. Bodies may carry fields these routes do not know (the
original stored anything): they are ignored; the known ones are validated as usual, a bad one
answering 400 with the message under the original's key (`message` for songs, `Message` for
picture writes). A picture's date comes back in the form it was sent. `/count` answers both
original services' counts. Reads are public; writes need an admin. Lists hold up to `?limit=`
items (default 100) in id order.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.music.endpoints.params import Limit
from bandstand.music.models import Picture, Song
from bandstand.music.pictures import PictureIdTaken, PictureNotFound, picture_service
from bandstand.music.schemas import (
    INT_MAX,
    LegacyCounts,
    LegacyPicture,
    LegacyPictureCreate,
    LegacyPictureSaved,
    LegacyPictureUpdate,
    LegacySong,
    LegacySongCreate,
    LegacySongCreated,
    LegacySongs,
    LegacySongUpdate,
    PictureCreate,
)
from bandstand.music.service import SongIdTaken, SongNotFound, song_service
from bandstand.platform.errors import BadRequest, NotFound, legacy_errors
from bandstand.platform.json_body import body_schema, json_object, validated
from bandstand.platform.lean_routes import ServiceRouter
from bandstand.platform.security import AdminUser
from bandstand.platform.transactions import DBSession

router = ServiceRouter(tags=["music (concert app compatibility)"])

ALREADY_PRESENT: dict[int | str, dict[str, Any]] = {
    302: {"description": "A record with this id already exists"}
}
NO_DATA = "ERROR: Request data not found"
SONG_NOT_FOUND = "Song not found"
_INTEGER = re.compile(r"[+-]?[0-9]+")


class LegacySongNotFound(NotFound):
    def __init__(self, song_id: int | str) -> None:
        super().__init__(f"ERROR: song whose id is {song_id} not found")


def _song_id(raw: str, *, deleting: bool = False) -> int:
    """The id in a song path, with the original's 400s: not an integer, or not positive (its
    DELETE worded that one differently)."""
    text = raw.strip()
    if not _INTEGER.fullmatch(text):
        raise BadRequest(f"ERROR: Invalid ID format. Its actual value is '{raw}'")
    number = int(text)
    if number < 1:
        its = "Its value is" if deleting else "Its actual value is"
        raise BadRequest(f"ERROR: ID must be a positive integer. {its} {number}")
    return number


def _legacy_id(raw: str, kind: str) -> int:
    """The id in a picture path: 400 unless it is a positive integer."""
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise BadRequest(f"Invalid {kind} id {raw!r}: it must be a positive integer")
    return int(text)


def _already_present(key: str, text: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"detail": text, key: text, **extra}, status_code=status.HTTP_302_FOUND)


def _same_id(body_id: int | None, path_id: int) -> None:
    """A body may repeat the path's id (clients send back what they read), not change it."""
    if body_id is not None and body_id != path_id:
        raise BadRequest(f"id: {body_id} is not the id in the path ({path_id})")


async def _song(session: AsyncSession, song_id: int, missing: NotFound) -> Song:
    try:
        if song_id > INT_MAX:
            raise SongNotFound(song_id)
        return await song_service.get(session, song_id)
    except SongNotFound as exc:
        raise missing from exc


async def _picture(session: AsyncSession, raw_id: str) -> Picture:
    picture_id = _legacy_id(raw_id, "picture")
    if picture_id > INT_MAX:
        raise PictureNotFound(picture_id)
    return await picture_service.get(session, picture_id)


def _saved(message: str, picture: Picture) -> LegacyPictureSaved:
    return LegacyPictureSaved(Message=message, picture=LegacyPicture.of(picture), id=picture.id)


@router.get(
    "/count", response_model=LegacyCounts, summary="Songs (`count`) and pictures (`length`)"
)
@legacy_errors("message", validation_status=400)
async def legacy_count(session: DBSession) -> LegacyCounts:
    songs = await song_service.count(session)
    return LegacyCounts(count=songs, length=await picture_service.count(session))


@router.get("/song", response_model=LegacySongs, summary="Songs as {id, title, lyrics}")
@legacy_errors("message", validation_status=400)
async def legacy_songs(session: DBSession, limit: Limit = 100) -> LegacySongs:
    rows = await song_service.songs.first_with_lyrics(session, limit)
    return LegacySongs(songs=[LegacySong.model_validate(row) for row in rows])


@router.get("/song/{song_id}", response_model=LegacySong)
@legacy_errors("message", validation_status=400)
async def legacy_song(song_id: str, session: DBSession) -> LegacySong:
    number = _song_id(song_id)
    return LegacySong.model_validate(await _song(session, number, LegacySongNotFound(number)))


@router.post(
    "/song",
    response_model=LegacySongCreated,
    status_code=status.HTTP_201_CREATED,
    responses=ALREADY_PRESENT,
    openapi_extra=body_schema(LegacySongCreate),
)
@legacy_errors("message", validation_status=400)
async def legacy_create_song(
    request: Request, admin: AdminUser, session: DBSession, response: Response
) -> LegacySongCreated | JSONResponse:
    document = await json_object(request, NO_DATA)
    if not document:
        raise BadRequest(NO_DATA)
    data = validated(LegacySongCreate, document)
    try:
        song = await song_service.create_legacy(session, data, admin.id)
    except SongIdTaken as exc:
        return _already_present("message", exc.detail)
    response.headers["Location"] = f"/song/{song.id}"
    return LegacySongCreated(id=song.id, title=song.title, lyrics=song.lyrics, inserted_id=song.id)


@router.put(
    "/song/{song_id}", response_model=LegacySong, openapi_extra=body_schema(LegacySongUpdate)
)
@legacy_errors("message", validation_status=400)
async def legacy_update_song(
    song_id: str, request: Request, admin: AdminUser, session: DBSession
) -> LegacySong:
    number = _song_id(song_id)
    document = await json_object(request, NO_DATA)
    if document is None:
        raise BadRequest(NO_DATA)
    data = validated(LegacySongUpdate, document)
    _same_id(data.id, number)
    song = await _song(session, number, NotFound(SONG_NOT_FOUND))
    song = await song_service.update(session, song, data.changes(), admin.id)
    return LegacySong.model_validate(song)


@router.delete("/song/{song_id}", status_code=status.HTTP_204_NO_CONTENT)
@legacy_errors("message", validation_status=400)
async def legacy_delete_song(song_id: str, admin: AdminUser, session: DBSession) -> Response:
    number = _song_id(song_id, deleting=True)
    song = await _song(session, number, NotFound(SONG_NOT_FOUND))
    await song_service.delete(session, song, admin.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/picture", response_model=list[LegacyPicture], summary="Event pictures")
@legacy_errors("message", validation_status=400)
async def legacy_pictures(session: DBSession, limit: Limit = 100) -> list[LegacyPicture]:
    pictures = await picture_service.first(session, limit)
    return [LegacyPicture.of(picture) for picture in pictures]


@router.get("/picture/{picture_id}", response_model=LegacyPicture)
@legacy_errors("message", validation_status=400)
async def legacy_picture(picture_id: str, session: DBSession) -> LegacyPicture:
    return LegacyPicture.of(await _picture(session, picture_id))


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
    fields = data.fields()
    text = fields.pop("event_date_text", None)
    try:
        picture = await picture_service.create(
            session,
            PictureCreate.model_validate(fields),
            admin.id,
            picture_id=data.id,
            event_date_text=text,
        )
    except PictureIdTaken as exc:
        assert data.id is not None
        existing = LegacyPicture.of(await picture_service.get(session, data.id))
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
    _same_id(data.id, number)
    picture = await picture_service.put(session, number, data.changes(), admin.id)
    return _saved("Picture updated successfully", picture)


@router.delete("/picture/{picture_id}", status_code=status.HTTP_204_NO_CONTENT)
@legacy_errors("message", validation_status=400)
async def legacy_delete_picture(picture_id: str, admin: AdminUser, session: DBSession) -> Response:
    picture = await _picture(session, picture_id)
    await picture_service.delete(session, picture, admin.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
