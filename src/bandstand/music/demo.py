"""The demo catalogue: songs, albums with their tracks, and event pictures written for Bandstand,
loaded from the JSON files in `bandstand/music/demo/` through the same services as the API.

Idempotent: rows are matched by natural key (a song or an album by title and artist, a track by
album and song, a picture by its URL), so a second run creates nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.music.models import Song
from bandstand.music.pictures import picture_service
from bandstand.music.schemas import AlbumCreate, PictureCreate, SongCreate, TrackCreate
from bandstand.music.service import album_service, song_service

Progress = Callable[[int], None]


def demo_file(name: str) -> list[dict[str, Any]]:
    """One of the demo JSON files shipped in the package (`songs`, `albums` or `pictures`)."""
    text = resources.files("bandstand.music").joinpath("demo", f"{name}.json").read_text("utf-8")
    data: list[dict[str, Any]] = json.loads(text)
    return data


async def seed_demo(session: AsyncSession, progress: Progress | None = None) -> int:
    """Load the demo catalogue in the session's transaction; the number of rows created.

    `progress(n)` is called as n more records (songs, albums, tracks, pictures) are done,
    whether they were created or found.
    """
    advance = progress or (lambda _n: None)
    created = 0
    songs: dict[tuple[str, str], Song] = {}
    for item in demo_file("songs"):
        data = SongCreate.model_validate(item)
        song = await song_service.songs.by_title_and_artist(session, data.title, data.artist)
        if song is None:
            song = await song_service.create(session, data, None)
            created += 1
        songs[(song.title, song.artist)] = song
        advance(1)
    for item in demo_file("albums"):
        tracks = item.pop("tracks")
        album_data = AlbumCreate.model_validate(item)
        album = await album_service.albums.by_title_and_artist(
            session, album_data.title, album_data.artist
        )
        if album is None:
            album = await album_service.create(session, album_data, None)
            created += 1
        advance(1)
        for track in tracks:
            song = songs[(track["title"], track["artist"])]
            if await album_service.tracks.get(session, album.id, song.id) is None:
                number = TrackCreate(song_id=song.id, track_number=track["track_number"])
                await album_service.add_track(session, album.id, number, None)
                created += 1
            advance(1)
    for item in demo_file("pictures"):
        picture_data = PictureCreate.model_validate(item)
        if await picture_service.pictures.by_url(session, picture_data.pic_url) is None:
            await picture_service.create(session, picture_data, None)
            created += 1
        advance(1)
    return created
