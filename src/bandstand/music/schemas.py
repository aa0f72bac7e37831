"""Music's request and response bodies. No client field can set an id (except the concert app's
legacy routes, whose clients choose ids), a like count or a timestamp."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from bandstand.platform.datetimes import IsoDate

INT_MAX = 2_147_483_647
"""The largest value of the INTEGER columns on PostgreSQL."""
LYRICS_MAX = 20_000
SongOrdering = Literal["title", "-title", "release_date", "-release_date", "likes", "-likes"]


def _storable(value: Any) -> Any:
    # PostgreSQL cannot store NUL, and neither engine a lone surrogate: refuse them as input.
    if not isinstance(value, str):
        return value
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text") from exc
    return value


def _as_utc(moment: datetime) -> datetime:
    # SQLite hands stored times back without a zone; every stored time is UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


Storable = AfterValidator(_storable)
Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), Storable
]
Genre = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50), Storable
]
Url = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255), Storable
]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), Storable]
Lyrics = Annotated[str, StringConstraints(max_length=LYRICS_MAX), Storable]
Place = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100), Storable]
PictureUrl = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000), Storable
]
Duration = Annotated[int, Field(strict=True, ge=0, le=INT_MAX, description="Seconds")]
Id = Annotated[int, Field(ge=1, le=INT_MAX)]
UTCDatetime = Annotated[datetime, AfterValidator(_as_utc)]

_US_DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")


def _legacy_date(value: Any) -> Any:
    """The concert app sent `MM/DD/YYYY`; ISO dates pass through to the usual parsing."""
    if isinstance(value, str) and (match := _US_DATE.match(value)):
        month, day, year = (int(part) for part in match.groups())
        try:
            return date(year, month, day)
        except ValueError as exc:
            raise ValueError(f"invalid date {value!r}: {exc}") from exc
    return value


LegacyDate = Annotated[IsoDate, BeforeValidator(_legacy_date)]


class StrictBody(BaseModel):
    """Unknown fields are refused, so a client cannot smuggle an id, a count or a time in."""

    model_config = ConfigDict(extra="forbid")


class PartialUpdate(StrictBody):
    """A partial update: fields left out are kept; `null` clears only an optional field."""

    not_nullable: ClassVar[tuple[str, ...]] = ()

    @field_validator("*")
    @classmethod
    def _required_stay_set(cls, value: Any, info: ValidationInfo) -> Any:
        # Runs for fields the client sent only: a left-out field keeps its default unvalidated.
        if value is None and info.field_name in cls.not_nullable:
            raise ValueError("cannot be null")
        return value

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


# Songs


class SongCreate(StrictBody):
    title: Title
    artist: Title
    genre: Genre
    file_url: Url
    duration: Duration
    description: Description | None = None
    cover_image_url: Url | None = None
    release_date: IsoDate | None = None
    lyrics: Lyrics | None = None


class SongUpdate(PartialUpdate):
    not_nullable = ("title", "artist", "genre", "file_url", "duration")

    title: Title | None = None
    artist: Title | None = None
    genre: Genre | None = None
    file_url: Url | None = None
    duration: Duration | None = None
    description: Description | None = None
    cover_image_url: Url | None = None
    release_date: IsoDate | None = None
    lyrics: Lyrics | None = None


class SongRead(BaseModel):
    """A song in lists. `liked_by_me` is null when the request carries no token."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    artist: str
    genre: str
    file_url: str
    duration: int
    description: str | None
    cover_image_url: str | None
    release_date: date | None
    like_count: int
    liked_by_me: bool | None = None
    created_at: UTCDatetime
    updated_at: UTCDatetime


class SongDetail(SongRead):
    lyrics: str | None


class AlbumTrack(SongRead):
    track_number: int


class LikedSong(SongRead):
    liked_at: UTCDatetime


class LikeStatus(BaseModel):
    song_id: int
    liked: bool
    like_count: int


# Albums


class AlbumCreate(StrictBody):
    title: Title
    artist: Title
    genre: Genre | None = None
    description: Description | None = None
    cover_image_url: Url | None = None


class AlbumUpdate(PartialUpdate):
    not_nullable = ("title", "artist")

    title: Title | None = None
    artist: Title | None = None
    genre: Genre | None = None
    description: Description | None = None
    cover_image_url: Url | None = None


class AlbumRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    artist: str
    genre: str | None
    description: str | None
    cover_image_url: str | None
    created_at: UTCDatetime
    updated_at: UTCDatetime


class TrackCreate(StrictBody):
    song_id: Id
    track_number: Annotated[int, Field(ge=1, le=9999)]


# Pictures


class PictureCreate(StrictBody):
    pic_url: PictureUrl
    event_country: Place | None = None
    event_state: Place | None = None
    event_city: Place | None = None
    event_date: IsoDate | None = None


class PictureUpdate(PartialUpdate):
    not_nullable = ("pic_url",)

    pic_url: PictureUrl | None = None
    event_country: Place | None = None
    event_state: Place | None = None
    event_city: Place | None = None
    event_date: IsoDate | None = None


class PictureRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    pic_url: str
    event_country: str | None
    event_state: str | None
    event_city: str | None
    event_date: date | None
    created_at: UTCDatetime
    updated_at: UTCDatetime


# The concert app's legacy routes (contract E)


class LegacySongCreate(StrictBody):
    """A song as the concert app created it: a title and lyrics, optionally its id.

    The catalogue fields it lacks get defaults: artist `Unknown artist`, genre `Unknown`,
    file_url `""` (no audio file), duration 0, and no description, cover or release date.
    """

    id: Id | None = None
    title: Title
    lyrics: Lyrics | None = None


class LegacySongUpdate(PartialUpdate):
    not_nullable = ("title",)

    title: Title | None = None
    lyrics: Lyrics | None = None


class LegacySong(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    lyrics: str | None


class LegacySongs(BaseModel):
    songs: list[LegacySong]


class LegacyPictureCreate(StrictBody):
    """A picture as the concert app created it; `event_date` may be `MM/DD/YYYY` or ISO."""

    id: Id | None = None
    pic_url: PictureUrl
    event_country: Place | None = None
    event_state: Place | None = None
    event_city: Place | None = None
    event_date: LegacyDate | None = None

    def picture(self) -> PictureCreate:
        return PictureCreate.model_validate(self.model_dump(exclude={"id"}))


class LegacyPictureUpdate(PartialUpdate):
    not_nullable = ("pic_url",)

    pic_url: PictureUrl | None = None
    event_country: Place | None = None
    event_state: Place | None = None
    event_city: Place | None = None
    event_date: LegacyDate | None = None


class LegacyPicture(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    pic_url: str
    event_country: str | None
    event_state: str | None
    event_city: str | None
    event_date: date | None


class LegacyPictureSaved(BaseModel):
    Message: str
    picture: LegacyPicture
    id: int


class DetailResponse(BaseModel):
    detail: str
