"""What the music pages gather from several API calls: the filters' choices, and the albums a
song is on. The music API has no list of genres or artists and no filter of albums by song, so
both are built from bounded reads."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from bandstand.web.visit import Visit

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


async def filter_choices(visit: Visit, genre: str | None, artist: str | None) -> FilterChoices:
    """The albums, genres and artists the songs' filters offer; a chosen value is offered even
    when the reads missed it (a song page's genre or artist link leads there with any value)."""
    albums, songs = await asyncio.gather(
        visit.call(
            "GET", "/api/v1/albums", query={"ordering": "title", "page_size": FILTER_ALBUMS}
        ),
        visit.call("GET", "/api/v1/songs", query={"ordering": "-likes", "page_size": CHOICE_SONGS}),
    )
    album_rows: list[dict[str, Any]] = albums.body["results"] if albums.ok else []
    rows = album_rows + (songs.body["results"] if songs.ok else [])
    return FilterChoices(
        albums=album_rows,
        genres=_values(rows, "genre", genre),
        artists=_values(rows, "artist", artist),
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
