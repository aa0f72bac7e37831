"""Music's test fixtures: the service harness with tokens for an admin and two users, and helpers
to create rows through the API and to look at what was stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import delete, func, select

import bandstand.music
from bandstand.music.app import create_app
from bandstand.music.models import Album, AlbumSong, Like, MusicBase, Picture, Song
from bandstand.music.search import search_text
from tests.support.harness import Headers, ServiceHarness

MIGRATIONS = Path(bandstand.music.__file__).parent / "migrations"
ADMIN_ID = 1
USER_ID = 7
OTHER_USER_ID = 8
TABLES = (Song, Album, AlbumSong, Like, Picture)


def song_body(number: int = 1, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": f"Song {number}",
        "artist": f"Artist {number}",
        "genre": "Rock",
        "file_url": f"https://cdn.example.com/songs/{number}.mp3",
        "duration": 180 + number,
    }
    body.update(overrides)
    return body


def album_body(number: int = 1, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"title": f"Album {number}", "artist": f"Band {number}"}
    body.update(overrides)
    return body


def picture_body(number: int = 1, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "pic_url": f"https://cdn.example.com/pictures/{number}.jpg",
        "event_country": "Portugal",
        "event_state": "Lisboa",
        "event_city": "Lisbon",
        "event_date": "2026-05-01",
    }
    body.update(overrides)
    return body


def names_field(body: dict[str, Any], field: str) -> bool:
    """Whether an error body names `field`, in its locations or its text."""
    detail = body.get("detail")
    if isinstance(detail, list):
        return any(field in [str(part) for part in error["loc"]] for error in detail)
    return field in str(detail)


class MusicHarness(ServiceHarness):
    """The running music app, its database, and tokens for an admin and two users."""

    name = "music"
    app_factory = create_app
    migrations = MIGRATIONS
    metadata = MusicBase.metadata
    users = {
        "admin": (ADMIN_ID, "admin"),
        "user": (USER_ID, "user"),
        "other": (OTHER_USER_ID, "user"),
    }
    admin: Headers
    user: Headers
    other: Headers

    async def _created(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.post(path, json=body, headers=self.admin)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def add_song(self, number: int = 1, **overrides: Any) -> dict[str, Any]:
        return await self._created("/api/v1/songs", song_body(number, **overrides))

    async def add_album(self, number: int = 1, **overrides: Any) -> dict[str, Any]:
        return await self._created("/api/v1/albums", album_body(number, **overrides))

    async def add_track(self, album_id: int, song_id: int, track_number: int) -> None:
        response = await self.client.post(
            f"/api/v1/albums/{album_id}/songs",
            json={"song_id": song_id, "track_number": track_number},
            headers=self.admin,
        )
        assert response.status_code == 201, response.text

    async def add_picture(self, number: int = 1, **overrides: Any) -> dict[str, Any]:
        return await self._created("/api/v1/pictures", picture_body(number, **overrides))

    async def like(self, song_id: int, headers: dict[str, str]) -> httpx.Response:
        return await self.client.put(f"/api/v1/songs/{song_id}/like", headers=headers)

    async def insert_songs(self, rows: list[dict[str, Any]]) -> list[int]:
        """Store songs directly (no request, no event): `song_body` fields plus any column."""
        async with self.session() as session:
            songs = []
            for number, overrides in enumerate(rows):
                fields = {**song_body(number), **overrides}
                songs.append(
                    Song(**fields, search_text=search_text(fields["title"], fields["artist"]))
                )
            session.add_all(songs)
            await session.flush()
            return [song.id for song in songs]

    async def clear(self) -> None:
        """Delete every song, album and picture (likes and tracks go with them)."""
        async with self.session() as session:
            for model in (Song, Album, Picture):
                await session.execute(delete(model))

    async def snapshot(self, *models: Any) -> dict[str, list[dict[str, Any]]]:
        """Every stored row of music's tables, for "nothing changed" assertions."""
        return await super().snapshot(*(models or TABLES))

    async def stored_song(self, song_id: int) -> Song | None:
        async with self.database.session() as session:
            return await session.get(Song, song_id)

    async def like_counts(self) -> dict[int, tuple[int, int]]:
        """Per song: (its stored like_count, the number of rows in likes)."""
        async with self.database.session() as session:
            statement = select(Like.song_id, func.count()).group_by(Like.song_id)
            likes = dict((await session.execute(statement)).all())
            counts = (await session.execute(select(Song.id, Song.like_count))).all()
        return {song_id: (count, likes.get(song_id, 0)) for song_id, count in counts}


music_database_url, music_settings, music, client = MusicHarness.fixtures()
running_music = MusicHarness.running
