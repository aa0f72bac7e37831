"""The framework ceiling: a bare FastAPI endpoint returning 50 prebuilt song objects, and one
returning 50 prebuilt movies.

Same server settings as a `bandstand` process (uvicorn, uvloop, httptools, no access log), the
same page shape and fields as `GET /api/v1/songs` (`/songs`) and `GET /api/v1/movies`
(`/movies`), validated by the same kind of response model, but no database, middleware or
authentication. `python bench/_ceiling_app.py PORT [SONGS]`: SONGS (at most 50, the default) on
the song page, for a catalogue smaller than a page.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel


class Song(BaseModel):
    id: int
    title: str
    artist: str
    genre: str
    file_url: str
    duration: int
    description: str | None
    cover_image_url: str | None
    release_date: date | None
    lyrics: str | None
    like_count: int
    liked_by_me: bool | None
    created_at: datetime
    updated_at: datetime


class Page(BaseModel):
    count: int
    next: str | None
    previous: str | None
    results: list[Song]


NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
SONGS = [
    Song(
        id=index,
        title=f"Song number {index}",
        artist=f"Artist {index % 7}",
        genre="rock",
        file_url=f"https://cdn.example.com/songs/{index}.mp3",
        duration=180 + index,
        description="A prebuilt song",
        cover_image_url=None,
        release_date=date(2020, 1, 1),
        lyrics=None,
        like_count=1000 - index,
        liked_by_me=None,
        created_at=NOW,
        updated_at=NOW,
    )
    for index in range(1, 51)
]
SONGS_ON_PAGE = int(sys.argv[2]) if len(sys.argv) > 2 else 50
PAGE = Page(
    count=100_000,
    next="http://127.0.0.1/songs?page=2",
    previous=None,
    results=SONGS[:SONGS_ON_PAGE],
)


class Movie(BaseModel):
    id: int
    title: str
    description: str
    release_year: int | None
    genres: list[str]
    duration_minutes: int | None
    created_at: datetime
    updated_at: datetime


class MoviePage(BaseModel):
    count: int
    next: str | None
    previous: str | None
    results: list[Movie]


MOVIES = [
    Movie(
        id=index,
        title=f"Movie number {index}",
        description=f"The prebuilt story of movie number {index}.",
        release_year=1950 + index,
        genres=["Drama", "Mystery"][: 1 + index % 2],
        duration_minutes=90 + index,
        created_at=NOW,
        updated_at=NOW,
    )
    for index in range(1, 51)
]
MOVIE_PAGE = MoviePage(
    count=100_000, next="http://127.0.0.1/movies?page=2", previous=None, results=MOVIES
)

app = FastAPI()


@app.get("/songs", response_model=Page)
async def songs() -> Page:
    return PAGE


@app.get("/movies", response_model=MoviePage)
async def movies() -> MoviePage:
    return MOVIE_PAGE


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=False, log_level="warning")
