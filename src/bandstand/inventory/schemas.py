"""Inventory's request and response bodies. No client field can set an id or a timestamp."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
)

from bandstand.inventory.models import (
    EARLIEST_YEAR,
    GENRE_MAX,
    LATEST_YEAR,
    TITLE_MAX,
    Movie,
)
from bandstand.platform.schemas import PartialBody, StorableText, StrictBody, UTCDatetime
from bandstand.platform.text_search import normalize

DESCRIPTION_MAX = 10_000
GENRES_MAX = 10
DURATION_MAX = 100_000
"""Minutes: longer than the longest film ever shown."""
MovieOrdering = Literal["id", "-id", "title", "-title", "release_year", "-release_year"]


def _searchable(value: str) -> str:
    if not normalize(value):
        raise ValueError("must contain a letter, digit or symbol")
    return value


def _distinct_genres(genres: list[str]) -> list[str]:
    """The genres in the order sent, each once whatever its case or accents (the first
    spelling is kept)."""
    seen: set[str] = set()
    kept: list[str] = []
    for genre in genres:
        key = normalize(genre)
        if key not in seen:
            seen.add(key)
            kept.append(genre)
    return kept


Title = Annotated[
    str,
    StorableText(strip_whitespace=True, min_length=1, max_length=TITLE_MAX),
    AfterValidator(_searchable),
]
Description = Annotated[
    str,
    StorableText(strip_whitespace=True, min_length=1, max_length=DESCRIPTION_MAX),
]
Genre = Annotated[
    str,
    StorableText(strip_whitespace=True, min_length=1, max_length=GENRE_MAX),
    AfterValidator(_searchable),
]
Genres = Annotated[
    list[Genre],
    Field(max_length=GENRES_MAX, description=f"Up to {GENRES_MAX}, each once (any case)"),
    AfterValidator(_distinct_genres),
]
ReleaseYear = Annotated[int, Field(strict=True, ge=EARLIEST_YEAR, le=LATEST_YEAR)]
DurationMinutes = Annotated[
    int, Field(strict=True, ge=1, le=DURATION_MAX, description="Running time in minutes")
]


class MovieCreate(StrictBody):
    """A new movie, or the whole of a replaced one. Unknown fields are refused, so a client
    cannot smuggle an `id` or a `created_at` in."""

    title: Title
    description: Description
    release_year: ReleaseYear | None = None
    genres: Genres = []
    duration_minutes: DurationMinutes | None = None


_NOT_NULL = ("title", "description", "genres")


class MovieUpdate(PartialBody):
    """A partial change: only the fields sent change; `release_year` and `duration_minutes`
    may be set to null, `genres` to `[]`."""

    not_nullable = _NOT_NULL
    title: Title | None = None
    description: Description | None = None
    release_year: ReleaseYear | None = None
    genres: Genres | None = None
    duration_minutes: DurationMinutes | None = None


class LegacyMovieCreate(MovieCreate):
    """The streaming platform's body: fields it did not know are ignored, as it ignored them."""

    model_config = ConfigDict(extra="ignore")


class LegacyMovieUpdate(MovieUpdate):
    model_config = ConfigDict(extra="ignore")


class MovieRead(BaseModel):
    id: int
    title: str
    description: str
    release_year: int | None
    genres: list[str]
    duration_minutes: int | None = Field(description="Running time in minutes")
    created_at: UTCDatetime
    updated_at: UTCDatetime

    @classmethod
    def build(cls, movie: Movie, genres: list[str]) -> MovieRead:
        return cls(
            id=movie.id,
            title=movie.title,
            description=movie.description,
            release_year=movie.release_year,
            genres=genres,
            duration_minutes=movie.duration_minutes,
            created_at=movie.created_at,
            updated_at=movie.updated_at,
        )


class Message(BaseModel):
    """The streaming platform's answer to a deletion."""

    message: str
