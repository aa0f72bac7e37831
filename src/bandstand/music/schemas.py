"""Music's request and response bodies. No client field can set an id (except the concert app's
legacy routes, whose clients choose ids), a like count or a timestamp."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    computed_field,
)

from bandstand.platform.schemas import (
    IsoDate,
    PartialBody,
    StorableText,
    StrictBody,
    UTCDatetime,
)

INT_MAX = 2_147_483_647
"""The largest value of the INTEGER columns on PostgreSQL."""
LYRICS_MAX = 20_000
SongOrdering = Literal["title", "-title", "release_date", "-release_date", "likes", "-likes"]


Title = Annotated[str, StorableText(strip_whitespace=True, min_length=1, max_length=100)]
Genre = Annotated[str, StorableText(strip_whitespace=True, min_length=1, max_length=50)]
Url = Annotated[str, StorableText(strip_whitespace=True, min_length=1, max_length=255)]
Description = Annotated[str, StorableText(strip_whitespace=True, max_length=500)]
Lyrics = Annotated[str, StorableText(max_length=LYRICS_MAX)]
Place = Annotated[str, StorableText(strip_whitespace=True, max_length=100)]
PictureUrl = Annotated[str, StorableText(strip_whitespace=True, min_length=1, max_length=1000)]
Duration = Annotated[int, Field(strict=True, ge=0, le=INT_MAX, description="Seconds")]
Id = Annotated[int, Field(ge=1, le=INT_MAX)]
CHOSEN_ID_MAX = 1_000_000_000
"""The highest id a client may choose (the concert app's routes): the ids above it stay for
the catalogue to choose, so one request cannot use up every id PostgreSQL's INTEGER holds."""
ChosenId = Annotated[int, Field(ge=1, le=CHOSEN_ID_MAX)]

_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_DATE = TypeAdapter(IsoDate)


def parse_legacy_date(text: str) -> date:
    """The concert app's `MM/DD/YYYY` (or `M/D/YYYY`), or an ISO date."""
    if match := _US_DATE.match(text):
        month, day, year = (int(part) for part in match.groups())
        try:
            return date(year, month, day)
        except ValueError as exc:
            raise ValueError(f"invalid date {text!r}: {exc}") from exc
    try:
        return _DATE.validate_python(text)
    except ValidationError as exc:
        raise ValueError(f"invalid date {text!r}: use MM/DD/YYYY or YYYY-MM-DD") from exc


def _legacy_date(text: str) -> str:
    parse_legacy_date(text)
    return text


LegacyDate = Annotated[
    str, StorableText(strip_whitespace=True, max_length=10), AfterValidator(_legacy_date)
]
"""A date as the concert app sent it; it is given back in the same form."""


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


class SongUpdate(PartialBody):
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


class FacetValue(BaseModel):
    value: str
    count: int = Field(description="Songs with this value")


class SongFacets(BaseModel):
    """The values the songs' filters can take, each with its number of songs: the most frequent
    first (then by value), at most 200 of each."""

    genres: list[FacetValue]
    artists: list[FacetValue]


# Albums


class AlbumCreate(StrictBody):
    title: Title
    artist: Title
    genre: Genre | None = None
    description: Description | None = None
    cover_image_url: Url | None = None


class AlbumUpdate(PartialBody):
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


class SongAlbum(AlbumRead):
    """An album of `GET /api/v1/albums?song=`: with the song's track number on it."""

    track_number: int


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


class PictureUpdate(PartialBody):
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


class LenientBody(BaseModel):
    """The concert app's bodies: fields the route does not know are ignored (its Mongo original
    stored anything a client sent); those it knows are validated as usual."""

    model_config = ConfigDict(extra="ignore")


class LegacySongCreate(LenientBody):
    """A song as the concert app created it: a title and lyrics, optionally its id.

    The catalogue fields it lacks get defaults: artist `Unknown artist`, genre `Unknown`,
    file_url `""` (no audio file), duration 0, and no description, cover or release date.
    """

    id: ChosenId | None = None
    title: Title
    lyrics: Lyrics | None = None


class LegacySongUpdate(LenientBody, PartialBody):
    """A change of a song; `id` may be sent, equal to the path's."""

    model_config = ConfigDict(extra="ignore")
    not_nullable = ("title",)

    id: Id | None = None
    title: Title | None = None
    lyrics: Lyrics | None = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude={"id"})


def object_id(number: int) -> dict[str, str]:
    """A stand-in for the Mongo document id the original sent as `_id` (in Mongo's extended
    JSON, as its `json_util` wrote it): the song's id in 24 hexadecimal digits."""
    return {"$oid": f"{number:024x}"}


class LegacySong(BaseModel):
    """`_id` stands in for the original's Mongo document id, which its clients may read."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    lyrics: str | None

    @computed_field(alias="_id")  # type: ignore[prop-decorator]
    @property
    def object_id(self) -> dict[str, str]:
        return object_id(self.id)


class LegacySongCreated(LegacySong):
    inserted_id: int


class LegacySongs(BaseModel):
    songs: list[LegacySong]


class LegacyCounts(BaseModel):
    """`/count` of both original services, now on one path."""

    count: int = Field(description="Songs")
    length: int = Field(description="Pictures")


class LegacyPictureFields(LenientBody):
    pic_url: PictureUrl
    event_country: Place | None = None
    event_state: Place | None = None
    event_city: Place | None = None
    event_date: LegacyDate | None = None

    def stored(self, fields: dict[str, Any]) -> dict[str, Any]:
        """`fields` (this body's) as stored: the date parsed, and the text it was sent as
        kept beside it when that is not the ISO form."""
        if "event_date" in fields:
            text = fields["event_date"]
            parsed = None if text is None else parse_legacy_date(text)
            fields["event_date"] = parsed
            keep = parsed is not None and text != parsed.isoformat()
            fields["event_date_text"] = text if keep else None
        return fields


class LegacyPictureCreate(LegacyPictureFields):
    """A picture as the concert app created it; `event_date` may be `MM/DD/YYYY` or ISO."""

    id: ChosenId | None = None

    def fields(self) -> dict[str, Any]:
        return self.stored(self.model_dump(exclude={"id"}))


class LegacyPictureUpdate(LegacyPictureFields, PartialBody):
    """The concert app's PUT: clients send the object read back, `id` included."""

    model_config = ConfigDict(extra="ignore")
    not_nullable = ("pic_url",)

    id: Id | None = None
    pic_url: PictureUrl | None = None  # type: ignore[assignment]

    def changes(self) -> dict[str, Any]:
        return self.stored(self.model_dump(exclude_unset=True, exclude={"id"}))


class LegacyPicture(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    pic_url: str
    event_country: str | None
    event_state: str | None
    event_city: str | None
    event_date: str | None

    @classmethod
    def of(cls, picture: Any) -> LegacyPicture:
        """`picture` with its date in the form it was sent."""
        given = picture.event_date_text
        day = picture.event_date
        return cls(
            id=picture.id,
            pic_url=picture.pic_url,
            event_country=picture.event_country,
            event_state=picture.event_state,
            event_city=picture.event_city,
            event_date=given if given is not None else (day.isoformat() if day else None),
        )


class LegacyPictureSaved(BaseModel):
    Message: str
    picture: LegacyPicture
    id: int


class DetailResponse(BaseModel):
    detail: str
