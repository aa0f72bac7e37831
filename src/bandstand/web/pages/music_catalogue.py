"""What the music pages read besides the songs: the filters' choices, and the albums a song is on.

Both are public reads, the same for every visitor: they are asked without the visitor's token,
so that the music service's shared cache of public lists may answer them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from bandstand.web.visit import Visit

FILTER_ALBUMS = 100
"""Albums offered by the album filter: the catalogue's first ones by title (one API page)."""
SONG_ALBUMS = 100
"""The most albums a song's page lists (one API page)."""


@dataclass(frozen=True)
class FilterChoices:
    albums: list[dict[str, Any]]
    genres: list[str]
    artists: list[str]


async def filter_choices(visit: Visit, genre: str | None, artist: str | None) -> FilterChoices:
    """The albums, genres and artists the songs' filters offer. The genres and artists are the
    API's facets (the 200 most frequent of each); a chosen value is offered even when they
    leave it out (a song page's genre or artist link leads there with any value). A read that
    fails leaves its choices out: the page still lists songs."""
    facets, albums = await asyncio.gather(
        visit.call("GET", "/api/v1/songs/facets", anonymous=True),
        visit.call(
            "GET",
            "/api/v1/albums",
            query={"ordering": "title", "page_size": FILTER_ALBUMS},
            anonymous=True,
        ),
    )
    values: dict[str, Any] = facets.body if facets.ok else {}
    return FilterChoices(
        albums=albums.body["results"] if albums.ok else [],
        genres=_values(values.get("genres", []), genre),
        artists=_values(values.get("artists", []), artist),
    )


def _values(facet: list[dict[str, Any]], chosen: str | None) -> list[str]:
    """A facet's values by name, for a list a person reads through."""
    values = {str(item["value"]) for item in facet}
    if chosen:
        values.add(chosen)
    return sorted(values, key=str.casefold)


async def albums_of(visit: Visit, song_id: int) -> list[dict[str, Any]]:
    """The albums the song is on, by title, each with the song's track number there."""
    page = await visit.get(
        "/api/v1/albums",
        {"song": song_id, "ordering": "title", "page_size": SONG_ALBUMS},
        anonymous=True,
    )
    albums: list[dict[str, Any]] = page["results"]
    return albums
