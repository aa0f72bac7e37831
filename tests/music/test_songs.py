"""Songs on the canonical API: create, read, change, delete, and the list's filters."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from tests.music.conftest import MusicHarness, song_body


async def test_create_returns_the_song_with_a_location(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    body = song_body(
        1,
        description="A song about trains",
        cover_image_url="https://cdn.example.com/c.jpg",
        release_date="2024-02-29",
        lyrics="La la la\nla",
    )
    response = await client.post("/api/v1/songs", json=body, headers=music.admin)

    assert response.status_code == 201, response.text
    song = response.json()
    assert response.headers["location"] == f"/api/v1/songs/{song['id']}"
    assert {key: song[key] for key in body} == body
    assert song["like_count"] == 0
    assert song["liked_by_me"] is False
    created = datetime.fromisoformat(song["created_at"])
    assert created.utcoffset() == timedelta(0)
    assert song["updated_at"] == song["created_at"]
    fetched = await client.get(response.headers["location"], headers=music.user)
    assert fetched.status_code == 200
    assert fetched.json() == {**song, "liked_by_me": False}


async def test_details_need_a_user_and_404_names_the_song(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    song = await music.add_song()
    assert (await client.get(f"/api/v1/songs/{song['id']}")).status_code == 401
    missing = await client.get("/api/v1/songs/999", headers=music.user)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Song with id 999 not found."}


async def test_update_changes_only_what_is_sent(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    song = await music.add_song(1, description="old", lyrics="words")
    response = await client.put(
        f"/api/v1/songs/{song['id']}",
        json={"title": "Renamed", "description": None},
        headers=music.admin,
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["title"] == "Renamed"
    assert changed["description"] is None
    assert changed["lyrics"] == "words"
    assert changed["artist"] == song["artist"]
    assert changed["updated_at"] > song["updated_at"]
    stored = await music.stored_song(song["id"])
    assert stored is not None
    assert stored.search_text == "renamed artist 1"

    patched = await client.patch(
        f"/api/v1/songs/{song['id']}", json={"duration": 5}, headers=music.admin
    )
    assert patched.status_code == 200
    assert patched.json()["duration"] == 5


async def test_the_list_shows_a_song_as_its_last_write_left_it(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    """The list reads the text the database keeps of each song (`models.SONG_TEXT`)."""
    song = await music.add_song(1, description="old")
    await music.like(song["id"], music.user)
    for change in ({"title": 'Now "quoted" ☃', "description": None}, {"duration": 5}):
        path = f"/api/v1/songs/{song['id']}"
        assert (await client.patch(path, json=change, headers=music.admin)).status_code == 200
        detail = (await client.get(path, headers=music.user)).json()
        listed = (await client.get("/api/v1/songs", headers=music.user)).json()["results"]
        assert listed == [{key: value for key, value in detail.items() if key != "lyrics"}]
        assert listed[0]["liked_by_me"] is True
        assert listed[0]["like_count"] == 1


async def test_an_update_that_changes_nothing_keeps_updated_at(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    song = await music.add_song(1)
    response = await client.put(
        f"/api/v1/songs/{song['id']}", json={"title": song["title"]}, headers=music.admin
    )
    assert response.json()["updated_at"] == song["updated_at"]
    assert [event["type"] for event in await music.outbox()] == ["music.song.created"]


async def test_delete_removes_the_song_its_likes_and_tracks(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    song = await music.add_song(1)
    album = await music.add_album(1)
    await music.add_track(album["id"], song["id"], 1)
    await music.like(song["id"], music.user)

    response = await client.delete(f"/api/v1/songs/{song['id']}", headers=music.admin)

    assert response.status_code == 204
    assert response.content == b""
    assert await music.count("songs") == 0
    assert await music.count("likes") == 0
    assert await music.count("album_songs") == 0
    assert await music.count("albums") == 1
    again = await client.delete(f"/api/v1/songs/{song['id']}", headers=music.admin)
    assert again.status_code == 404


async def test_list_is_public_paginated_and_ordered_by_id(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    ids = [(await music.add_song(number))["id"] for number in range(5)]
    response = await client.get("/api/v1/songs?page_size=2")
    assert response.status_code == 200
    page = response.json()
    assert page["count"] == 5
    assert [song["id"] for song in page["results"]] == ids[:2]
    assert page["previous"] is None
    # `next` carries a cursor; page=2 reads the same page by number.
    assert "cursor=" in page["next"]
    second = (await client.get(page["next"])).json()
    assert (
        second["results"]
        == (await client.get("/api/v1/songs?page=2&page_size=2")).json()["results"]
    )
    assert [song["id"] for song in second["results"]] == ids[2:4]
    assert all(song["liked_by_me"] is None for song in page["results"])
    assert "lyrics" not in page["results"][0]
    last = (await client.get("/api/v1/songs?page=3&page_size=2")).json()
    assert [song["id"] for song in last["results"]] == ids[4:]
    assert last["next"] is None


async def test_search_ignores_case_and_accents_and_needs_every_word(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    first = await music.add_song(1, title="Café del Mar", artist="Zoë Ørsted")
    second = await music.add_song(2, title="CAFE society", artist="Ana")
    await music.add_song(3, title="Tea time", artist="Cafeteria Crew 100%")

    async def search(query: str) -> list[int]:
        response = await client.get("/api/v1/songs", params={"search": query})
        assert response.status_code == 200, response.text
        return [song["id"] for song in response.json()["results"]]

    assert await search("café") == [first["id"], second["id"], first["id"] + 2]
    assert await search("CAFE MAR") == [first["id"]]
    assert await search("zoe") == [first["id"]]
    assert await search("society ana") == [second["id"]]
    assert await search("100%") == [first["id"] + 2]
    assert await search("%") == [first["id"] + 2]
    assert await search("_") == []
    assert await search("mar tea") == []


async def test_filters_by_genre_artist_and_album(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    rock = await music.add_song(1, genre="Rock", artist="Ana")
    jazz = await music.add_song(2, genre="Jazz", artist="Ana")
    other = await music.add_song(3, genre="Jazz", artist="Bo")
    album = await music.add_album(1)
    await music.add_track(album["id"], other["id"], 1)
    await music.add_track(album["id"], rock["id"], 2)

    async def ids(**params: object) -> list[int]:
        response = await client.get("/api/v1/songs", params=params)
        assert response.status_code == 200, response.text
        return [song["id"] for song in response.json()["results"]]

    assert await ids(genre="Jazz") == [jazz["id"], other["id"]]
    assert await ids(artist="Ana") == [rock["id"], jazz["id"]]
    assert await ids(artist="Ana", genre="Jazz") == [jazz["id"]]
    assert await ids(album=album["id"]) == [rock["id"], other["id"]]
    assert await ids(album=album["id"], genre="Jazz") == [other["id"]]
    assert await ids(album=album["id"] + 1) == []


async def test_orderings(music: MusicHarness, client: httpx.AsyncClient) -> None:
    a = await music.add_song(1, title="b", release_date="2020-01-01")
    b = await music.add_song(2, title="a", release_date=None)
    c = await music.add_song(3, title="c", release_date="2019-05-05")
    await music.like(c["id"], music.user)
    await music.like(c["id"], music.other)
    await music.like(a["id"], music.user)

    async def ordered(ordering: str) -> list[int]:
        response = await client.get("/api/v1/songs", params={"ordering": ordering})
        assert response.status_code == 200, response.text
        return [song["id"] for song in response.json()["results"]]

    assert await ordered("title") == [b["id"], a["id"], c["id"]]
    assert await ordered("-title") == [c["id"], a["id"], b["id"]]
    assert await ordered("release_date") == [b["id"], c["id"], a["id"]]
    assert await ordered("-release_date") == [a["id"], c["id"], b["id"]]
    assert await ordered("likes") == [b["id"], a["id"], c["id"]]
    assert await ordered("-likes") == [c["id"], a["id"], b["id"]]


async def test_unknown_ordering_and_bad_filters_are_refused(client: httpx.AsyncClient) -> None:
    for params, field in [
        ({"ordering": "popularity"}, "ordering"),
        ({"album": "x"}, "album"),
        ({"album": "0"}, "album"),
        ({"search": "x" * 201}, "search"),
        ({"search": "a\x00"}, "search"),
        ({"genre": "\x00"}, "genre"),
        ({"artist": "\x00"}, "artist"),
        ({"page_size": "1000"}, "page_size"),
    ]:
        response = await client.get("/api/v1/songs", params=params)
        assert response.status_code == 422, (params, response.text)
        assert field in [str(part) for part in response.json()["detail"][0]["loc"]]
