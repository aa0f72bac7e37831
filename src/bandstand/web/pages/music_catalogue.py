"""What the music pages gather from several API calls: the filters' choices, and the albums a
song is on. The music API has no list of genres or artists and no filter of albums by song, so
both are built from bounded reads."""

from __future__ import annotations

import asyncio
import time
import weakref
from dataclasses import dataclass
from typing import Any

from bandstand.web.visit import Visit, WebState

CHOICE_SONGS = 100
"""Songs (the most liked) whose genres and artists the filters offer, beside the albums'."""
FILTER_ALBUMS = 100
"""Albums offered by the album filter (the catalogue's first ones by title)."""
ARTIST_ALBUMS = 20
"""Albums of the song's artist asked whether the song is one of their tracks."""
OTHER_ALBUMS = 30
"""Other albums asked the same (compilations name another artist)."""


@dataclass(frozen=True)
class FilterChoices:
    albums: list[dict[str, Any]]
    genres: list[str]
    artists: list[str]


CHOICES_SECONDS = 60.0
"""How long the filters' choices are kept: they change when the catalogue does, rarely."""


@dataclass(frozen=True)
class _Kept:
    at: float
    albums: list[dict[str, Any]]
    rows: list[dict[str, Any]]


_kept: weakref.WeakKeyDictionary[WebState, _Kept] = weakref.WeakKeyDictionary()
"""Per web app (a test's app does not see another's catalogue)."""


async def filter_choices(visit: Visit, genre: str | None, artist: str | None) -> FilterChoices:
    """The albums, genres and artists the songs' filters offer; a chosen value is offered even
    when the reads missed it (a song page's genre or artist link leads there with any value).
    The reads are kept a minute in this process, so most pages make one API call, not three."""
    now = time.monotonic()
    kept = _kept.get(visit.state)
    if kept is None or now - kept.at > CHOICES_SECONDS:
        albums, songs = await asyncio.gather(
            visit.call(
                "GET", "/api/v1/albums", query={"ordering": "title", "page_size": FILTER_ALBUMS}
            ),
            visit.call(
                "GET", "/api/v1/songs", query={"ordering": "-likes", "page_size": CHOICE_SONGS}
            ),
        )
        if not (albums.ok and songs.ok):
            # Shown without what failed, and asked again on the next page.
            album_rows = albums.body["results"] if albums.ok else []
            rows = album_rows + (songs.body["results"] if songs.ok else [])
            return _choices(album_rows, rows, genre, artist)
        fields = ("genre", "artist")
        song_rows = [{key: row.get(key) for key in fields} for row in songs.body["results"]]
        kept = _kept[visit.state] = _Kept(
            now, albums.body["results"], albums.body["results"] + song_rows
        )
    return _choices(kept.albums, kept.rows, genre, artist)


def _choices(
    albums: list[dict[str, Any]], rows: list[dict[str, Any]], genre: str | None, artist: str | None
) -> FilterChoices:
    return FilterChoices(
        albums=albums, genres=_values(rows, "genre", genre), artists=_values(rows, "artist", artist)
    )


def _values(rows: list[dict[str, Any]], key: str, chosen: str | None) -> list[str]:
    values = {str(row[key]) for row in rows if row.get(key)}
    if chosen:
        values.add(chosen)
    return sorted(values, key=str.casefold)


async def albums_of(visit: Visit, song: dict[str, Any]) -> list[dict[str, Any]]:
    """The albums the song is on, each with the song's track number: the albums of its artist
    and the catalogue's first others are each asked whether the song is one of their tracks."""
    by_artist, others = await asyncio.gather(
        visit.call(
            "GET",
            "/api/v1/albums",
            query={"artist": song["artist"], "ordering": "title", "page_size": ARTIST_ALBUMS},
        ),
        visit.call("GET", "/api/v1/albums", query={"ordering": "title", "page_size": OTHER_ALBUMS}),
    )
    albums: dict[int, dict[str, Any]] = {}
    for answer in (by_artist, others):
        if answer.ok:
            albums.update((row["id"], row) for row in answer.body["results"])
    candidates = list(albums.values())
    tracks = await asyncio.gather(
        *(visit.call("GET", f"/api/v1/albums/{row['id']}/songs/{song['id']}") for row in candidates)
    )
    found = [
        {**row, "track_number": track.body["track_number"]}
        for row, track in zip(candidates, tracks, strict=True)
        if track.ok
    ]
    return sorted(found, key=lambda row: str(row["title"]).casefold())
