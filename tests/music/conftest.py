"""Music's test fixtures: an empty migrated database per test on each engine, the app with its
lifespan running, tokens for an admin and two users signed by a test key, and helpers to create
rows through the API and to look at what was stored."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

import bandstand.music
from bandstand.music.app import create_app
from bandstand.music.models import Album, AlbumSong, Like, MusicBase, Picture, Song
from bandstand.music.search import search_text
from bandstand.platform.database import Database
from bandstand.platform.runtime import Runtime
from bandstand.platform.settings import Settings
from tests.support.client import api_client
from tests.support.databases import MigratedDatabases
from tests.support.outbox import outbox_events
from tests.support.statements import recorded_statements
from tests.support.tokens import TokenFactory

MIGRATIONS = Path(bandstand.music.__file__).parent / "migrations"
ADMIN_ID = 1
USER_ID = 7
OTHER_USER_ID = 8
TABLES: dict[str, Any] = {
    "songs": Song,
    "albums": Album,
    "album_songs": AlbumSong,
    "likes": Like,
    "pictures": Picture,
}


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


class MusicHarness:
    """The running music app, its database, and tokens for an admin and two users."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient, tokens: TokenFactory) -> None:
        self.app = app
        self.client = client
        self.tokens = tokens
        self.admin = tokens.headers(user_id=ADMIN_ID, role="admin")
        self.user = tokens.headers(user_id=USER_ID)
        self.other = tokens.headers(user_id=OTHER_USER_ID)

    @property
    def database(self) -> Database:
        database: Database = self.app.state.database
        return database

    def headers(self, user_id: int, role: str = "user") -> dict[str, str]:
        return self.tokens.headers(user_id=user_id, role=role)

    async def add_song(self, number: int = 1, **overrides: Any) -> dict[str, Any]:
        response = await self.client.post(
            "/api/v1/songs", json=song_body(number, **overrides), headers=self.admin
        )
        assert response.status_code == 201, response.text
        song: dict[str, Any] = response.json()
        return song

    async def add_album(self, number: int = 1, **overrides: Any) -> dict[str, Any]:
        response = await self.client.post(
            "/api/v1/albums", json=album_body(number, **overrides), headers=self.admin
        )
        assert response.status_code == 201, response.text
        album: dict[str, Any] = response.json()
        return album

    async def add_track(self, album_id: int, song_id: int, track_number: int) -> None:
        response = await self.client.post(
            f"/api/v1/albums/{album_id}/songs",
            json={"song_id": song_id, "track_number": track_number},
            headers=self.admin,
        )
        assert response.status_code == 201, response.text

    async def add_picture(self, number: int = 1, **overrides: Any) -> dict[str, Any]:
        response = await self.client.post(
            "/api/v1/pictures", json=picture_body(number, **overrides), headers=self.admin
        )
        assert response.status_code == 201, response.text
        picture: dict[str, Any] = response.json()
        return picture

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

    async def count(self, table: str) -> int:
        async with self.database.session() as session:
            statement = select(func.count()).select_from(TABLES[table])
            return int((await session.execute(statement)).scalar_one())

    async def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """Every stored row of music's tables, for "nothing changed" assertions."""
        snapshot: dict[str, list[dict[str, Any]]] = {}
        async with self.database.session() as session:
            for name, model in TABLES.items():
                columns = list(model.__table__.columns)
                rows = await session.execute(select(*columns).order_by(*columns[:2]))
                snapshot[name] = [dict(row._mapping) for row in rows]
        return snapshot

    async def stored_song(self, song_id: int) -> Song | None:
        async with self.database.session() as session:
            return await session.get(Song, song_id)

    async def like_counts(self) -> dict[int, tuple[int, int]]:
        """Per song: (its stored like_count, the number of rows in likes)."""
        async with self.database.session() as session:
            likes = dict(
                (
                    await session.execute(select(Like.song_id, func.count()).group_by(Like.song_id))
                ).all()
            )
            counts = (await session.execute(select(Song.id, Song.like_count))).all()
        return {song_id: (count, likes.get(song_id, 0)) for song_id, count in counts}

    async def outbox(self, prefix: str = "music.") -> list[dict[str, Any]]:
        """The decoded events in the outbox whose type starts with `prefix`, oldest first."""
        return await outbox_events(self.database, prefix)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.database.session() as session, session.begin():
            yield session

    def statements(self) -> AbstractContextManager[list[str]]:
        """The SQL statements run inside the block (the outbox relay's polls left out)."""
        return recorded_statements(self.database)


@pytest.fixture
async def music_database_url(
    engine: str, migrated_databases: MigratedDatabases, tmp_path: Path
) -> str:
    """An empty, migrated music database on the engine under test."""
    return await migrated_databases.fresh(engine, "music", MIGRATIONS, MusicBase.metadata, tmp_path)


@pytest.fixture
def music_settings(make_settings: Callable[..., Settings], music_database_url: str) -> Settings:
    return make_settings(databases={"music": music_database_url})


@pytest.fixture
def tokens() -> TokenFactory:
    return TokenFactory()


@asynccontextmanager
async def running_music(settings: Settings, tokens: TokenFactory) -> AsyncIterator[MusicHarness]:
    app = create_app(Runtime(settings, jwks_fetch=tokens.jwks))
    async with api_client(app, raise_app_exceptions=False) as client:
        yield MusicHarness(app, client, tokens)


@pytest.fixture
async def music(music_settings: Settings, tokens: TokenFactory) -> AsyncIterator[MusicHarness]:
    async with running_music(music_settings, tokens) as harness:
        yield harness


@pytest.fixture
def client(music: MusicHarness) -> httpx.AsyncClient:
    return music.client
