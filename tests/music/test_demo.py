"""The demo catalogue: shipped as package data, valid, and loaded once however often it is run."""

from __future__ import annotations

from importlib import resources

import httpx

from bandstand.music.demo import demo_file, seed_demo
from bandstand.music.schemas import AlbumCreate, PictureCreate, SongCreate
from tests.music.conftest import MusicHarness


def test_the_demo_files_ship_in_the_package_and_are_valid() -> None:
    folder = resources.files("bandstand.music").joinpath("demo")
    assert sorted(item.name for item in folder.iterdir() if item.name.endswith(".json")) == [
        "albums.json",
        "pictures.json",
        "songs.json",
    ]
    songs = [SongCreate.model_validate(item) for item in demo_file("songs")]
    assert len(songs) == 24
    assert all(song.lyrics for song in songs)
    assert len({(song.title, song.artist) for song in songs}) == 24
    albums = demo_file("albums")
    assert len(albums) == 6
    keys = {(song.title, song.artist) for song in songs}
    for album in albums:
        tracks = album.pop("tracks")
        AlbumCreate.model_validate(album)
        assert tracks
        assert all((track["title"], track["artist"]) in keys for track in tracks)
        numbers = [track["track_number"] for track in tracks]
        assert len(set(numbers)) == len(numbers)
    pictures = [PictureCreate.model_validate(item) for item in demo_file("pictures")]
    assert len(pictures) == 10
    assert len({picture.pic_url for picture in pictures}) == 10


async def test_seeding_twice_creates_the_catalogue_once(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    steps: list[int] = []
    async with music.session() as session:
        created = await seed_demo(session, steps.append)
    tracks = sum(len(album["tracks"]) for album in demo_file("albums"))
    assert created == 24 + 6 + tracks + 10
    assert sum(steps) == created

    async with music.session() as session:
        again: list[int] = []
        assert await seed_demo(session, again.append) == 0
    assert sum(again) == created
    async with music.session() as session:
        assert await seed_demo(session) == 0

    assert (await music.count("songs"), await music.count("albums")) == (24, 6)
    assert (await music.count("album_songs"), await music.count("pictures")) == (tracks, 10)
    found = await client.get("/api/v1/songs", params={"search": "cafe orbit"})
    assert [song["artist"] for song in found.json()["results"]] == ["Nocturne Pilots"]
    hearts = await client.get("/api/v1/songs", params={"search": "corazon"})
    assert sorted(song["title"] for song in hearts.json()["results"]) == [
        "Corazón Despacio",
        "Corazón de Tiza",
    ]
    sampler = (await client.get("/api/v1/albums", params={"search": "sampler"})).json()
    (album,) = sampler["results"]
    tracks_page = await client.get(f"/api/v1/albums/{album['id']}/songs", headers=music.user)
    assert [song["track_number"] for song in tracks_page.json()["results"]] == [1, 2, 3, 4, 5]
    assert {event["type"] for event in await music.outbox()} == {
        "music.song.created",
        "music.album.created",
        "music.album.updated",
        "music.picture.created",
    }
