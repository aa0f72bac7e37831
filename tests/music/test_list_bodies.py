"""Every list of music writes exactly the documented body, byte for byte: the fields of its read
model in their order, dates and UTC times in ISO form, text as UTF-8, `liked_by_me` null without
a token and the caller's own with one."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from bandstand.music.models import Album, AlbumSong, Like, Picture, Song
from bandstand.music.search import search_text
from tests.music.conftest import OTHER_USER_ID, USER_ID, MusicHarness

MADE = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
CHANGED = datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)
LIKED = datetime(2026, 3, 4, 5, 6, 7, 1, tzinfo=UTC)


def _body(content: Any) -> bytes:
    return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()


def _page(results: list[dict[str, Any]]) -> bytes:
    return _body({"count": len(results), "next": None, "previous": None, "results": results})


def _song(song_id: int, liked_by_me: bool | None, **fields: Any) -> dict[str, Any]:
    return {
        "id": song_id,
        "title": fields.get("title", "Plain"),
        "artist": fields.get("artist", "Band"),
        "genre": "Rock",
        "file_url": f"https://cdn.example.com/{song_id}.mp3",
        "duration": 200,
        "description": fields.get("description"),
        "cover_image_url": fields.get("cover_image_url"),
        "release_date": fields.get("release_date"),
        "like_count": fields.get("like_count", 0),
        "liked_by_me": liked_by_me,
        "created_at": "2026-01-02T03:04:05.678901Z",
        "updated_at": fields.get("updated_at", "2026-01-02T03:04:05.678901Z"),
    }


@pytest.fixture
async def catalogue(music: MusicHarness) -> dict[str, int]:
    """Two songs (one with every optional field, liked by the user), an album with both as
    tracks, an album with no optional field and two pictures, at known times."""
    async with music.session() as session:
        full = Song(
            title='Ünïcode "quoted" <b>',
            artist="Bänd",
            genre="Rock",
            file_url="https://cdn.example.com/1.mp3",
            duration=200,
            description="Line one\nline two",
            cover_image_url="https://cdn.example.com/cover.png",
            release_date=date(2020, 2, 3),
            like_count=2,
            search_text=search_text('Ünïcode "quoted" <b>', "Bänd"),
            created_at=MADE,
            updated_at=CHANGED,
        )
        plain = Song(
            title="Plain",
            artist="Band",
            genre="Rock",
            file_url="https://cdn.example.com/2.mp3",
            duration=200,
            like_count=0,
            search_text=search_text("Plain", "Band"),
            created_at=MADE,
            updated_at=MADE,
        )
        session.add_all([full, plain])
        await session.flush()
        # The file URLs name the ids, whatever the engine gave.
        full.file_url = f"https://cdn.example.com/{full.id}.mp3"
        plain.file_url = f"https://cdn.example.com/{plain.id}.mp3"
        album = Album(
            title="Album",
            artist="Band",
            genre="Jazz",
            description="About it",
            cover_image_url="https://cdn.example.com/album.png",
            search_text="album band",
            created_at=MADE,
            updated_at=CHANGED,
        )
        bare = Album(title="Bare", artist="Band", search_text="bare band", created_at=MADE)
        session.add_all([album, bare])
        await session.flush()
        session.add_all(
            [
                AlbumSong(album_id=album.id, song_id=plain.id, track_number=1, created_at=MADE),
                AlbumSong(album_id=album.id, song_id=full.id, track_number=2, created_at=MADE),
                Like(user_id=USER_ID, song_id=full.id, created_at=LIKED),
                Like(user_id=OTHER_USER_ID, song_id=full.id, created_at=LIKED),
            ]
        )
        first = Picture(
            pic_url="https://cdn.example.com/p/1.jpg",
            event_country="Portugal",
            event_state="Lisboa",
            event_city="Lisbon",
            event_date=date(2026, 5, 1),
            event_date_text="05/01/2026",
            created_at=MADE,
        )
        second = Picture(pic_url="https://cdn.example.com/p/2.jpg", created_at=MADE)
        session.add_all([first, second])
        await session.flush()
        return {
            "full": full.id,
            "plain": plain.id,
            "album": album.id,
            "bare": bare.id,
            "picture": first.id,
            "second": second.id,
        }


def _songs(ids: dict[str, int], signed_in: bool) -> list[dict[str, Any]]:
    return [
        _song(
            ids["full"],
            True if signed_in else None,
            title='Ünïcode "quoted" <b>',
            artist="Bänd",
            description="Line one\nline two",
            cover_image_url="https://cdn.example.com/cover.png",
            release_date="2020-02-03",
            like_count=2,
            updated_at="2026-02-03T04:05:06Z",
        ),
        _song(ids["plain"], False if signed_in else None),
    ]


async def test_song_lists(
    music: MusicHarness, client: httpx.AsyncClient, catalogue: dict[str, int]
) -> None:
    for headers, signed_in in (({}, False), (music.user, True)):
        songs = _songs(catalogue, signed_in)
        for path in ("/api/v1/songs", "/api/v1/songs?search=a&page_size=50"):
            response = await client.get(path, headers=headers)
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/json"
            assert response.content == _page(songs), path
        album = await client.get(f"/api/v1/songs?album={catalogue['album']}", headers=headers)
        assert album.content == _page(songs)
        legacy = await client.get("/songs", headers=headers)
        assert legacy.content == _body(songs)
    other = await client.get("/api/v1/songs?ordering=-likes", headers=music.other)
    assert json.loads(other.content)["results"][0]["liked_by_me"] is True


async def test_liked_songs(
    music: MusicHarness, client: httpx.AsyncClient, catalogue: dict[str, int]
) -> None:
    response = await client.get("/api/v1/me/likes", headers=music.user)
    (liked, _) = _songs(catalogue, signed_in=True)
    assert response.content == _page([{**liked, "liked_at": "2026-03-04T05:06:07.000001Z"}])


async def test_album_lists_and_tracks(
    music: MusicHarness, client: httpx.AsyncClient, catalogue: dict[str, int]
) -> None:
    albums = [
        {
            "id": catalogue["album"],
            "title": "Album",
            "artist": "Band",
            "genre": "Jazz",
            "description": "About it",
            "cover_image_url": "https://cdn.example.com/album.png",
            "created_at": "2026-01-02T03:04:05.678901Z",
            "updated_at": "2026-02-03T04:05:06Z",
        },
        {
            "id": catalogue["bare"],
            "title": "Bare",
            "artist": "Band",
            "genre": None,
            "description": None,
            "cover_image_url": None,
            "created_at": "2026-01-02T03:04:05.678901Z",
            "updated_at": "2026-01-02T03:04:05.678901Z",
        },
    ]
    assert (await client.get("/api/v1/albums")).content == _page(albums)
    assert (await client.get("/albums")).content == _body(albums)

    full, plain = _songs(catalogue, signed_in=True)
    tracks = [{**plain, "track_number": 1}, {**full, "track_number": 2}]
    album = catalogue["album"]
    listed = await client.get(f"/api/v1/albums/{album}/songs", headers=music.user)
    assert listed.content == _page(tracks)
    legacy = await client.get(f"/albums/{album}/songs", headers=music.user)
    assert legacy.content == _body(tracks)
    one = await client.get(f"/api/v1/albums/{album}/songs/{plain['id']}", headers=music.user)
    assert one.json() == tracks[0]


async def test_picture_list(
    music: MusicHarness, client: httpx.AsyncClient, catalogue: dict[str, int]
) -> None:
    pictures = [
        {
            "id": catalogue["picture"],
            "pic_url": "https://cdn.example.com/p/1.jpg",
            "event_country": "Portugal",
            "event_state": "Lisboa",
            "event_city": "Lisbon",
            "event_date": "2026-05-01",
            "created_at": "2026-01-02T03:04:05.678901Z",
            "updated_at": "2026-01-02T03:04:05.678901Z",
        },
        {
            "id": catalogue["second"],
            "pic_url": "https://cdn.example.com/p/2.jpg",
            "event_country": None,
            "event_state": None,
            "event_city": None,
            "event_date": None,
            "created_at": "2026-01-02T03:04:05.678901Z",
            "updated_at": "2026-01-02T03:04:05.678901Z",
        },
    ]
    assert (await client.get("/api/v1/pictures", headers=music.user)).content == _page(pictures)
