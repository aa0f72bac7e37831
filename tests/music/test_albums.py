"""Albums and their tracks on the canonical API."""

from __future__ import annotations

import httpx

from tests.music.conftest import ADMIN_ID, MusicHarness, album_body


async def test_album_lifecycle(music: MusicHarness, client: httpx.AsyncClient) -> None:
    body = album_body(1, genre="Jazz", description="Live", cover_image_url="https://x/c.png")
    created = await client.post("/api/v1/albums", json=body, headers=music.admin)
    assert created.status_code == 201, created.text
    album = created.json()
    assert created.headers["location"] == f"/api/v1/albums/{album['id']}"
    assert {key: album[key] for key in body} == body

    fetched = await client.get(f"/api/v1/albums/{album['id']}", headers=music.user)
    assert fetched.json() == album
    changed = await client.put(
        f"/api/v1/albums/{album['id']}", json={"title": "Live at Home"}, headers=music.admin
    )
    assert changed.status_code == 200
    assert changed.json()["title"] == "Live at Home"
    assert changed.json()["genre"] == "Jazz"

    deleted = await client.delete(f"/api/v1/albums/{album['id']}", headers=music.admin)
    assert deleted.status_code == 204
    missing = await client.get(f"/api/v1/albums/{album['id']}", headers=music.user)
    assert missing.status_code == 404
    assert missing.json() == {"detail": f"Album with id {album['id']} not found."}


async def test_album_list_filters_and_search(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    first = await music.add_album(1, title="Noites de Lisboa", artist="Ana", genre="Fado")
    second = await music.add_album(2, title="Élan", artist="Ana", genre="Jazz")
    third = await music.add_album(3, title="Alpha", artist="Bo", genre="Jazz")

    async def ids(**params: object) -> list[int]:
        response = await client.get("/api/v1/albums", params=params)
        assert response.status_code == 200, response.text
        return [album["id"] for album in response.json()["results"]]

    assert await ids() == [first["id"], second["id"], third["id"]]
    assert await ids(search="elan") == [second["id"]]
    assert await ids(search="LISBOA ana") == [first["id"]]
    assert await ids(genre="Jazz") == [second["id"], third["id"]]
    assert await ids(artist="Ana") == [first["id"], second["id"]]
    assert await ids(ordering="title") == [third["id"], first["id"], second["id"]]
    assert await ids(ordering="-title") == [second["id"], first["id"], third["id"]]
    bad = await client.get("/api/v1/albums", params={"ordering": "likes"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "ordering"]


async def test_tracks_in_order_with_their_numbers(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    album = await music.add_album()
    songs = [await music.add_song(number) for number in range(3)]
    await music.add_track(album["id"], songs[0]["id"], 3)
    await music.add_track(album["id"], songs[1]["id"], 1)
    await music.like(songs[1]["id"], music.user)

    response = await client.get(f"/api/v1/albums/{album['id']}/songs", headers=music.user)

    assert response.status_code == 200
    page = response.json()
    assert page["count"] == 2
    assert [(item["id"], item["track_number"]) for item in page["results"]] == [
        (songs[1]["id"], 1),
        (songs[0]["id"], 3),
    ]
    assert [item["liked_by_me"] for item in page["results"]] == [True, False]
    assert page["results"][0]["like_count"] == 1
    track = await client.get(
        f"/api/v1/albums/{album['id']}/songs/{songs[0]['id']}", headers=music.user
    )
    assert track.json()["track_number"] == 3
    off_album = await client.get(
        f"/api/v1/albums/{album['id']}/songs/{songs[2]['id']}", headers=music.user
    )
    assert off_album.status_code == 404
    missing_album = await client.get("/api/v1/albums/999/songs", headers=music.user)
    assert missing_album.status_code == 404
    assert missing_album.json() == {"detail": "Album with id 999 not found."}


async def test_adding_a_track_answers_it_with_a_location(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    album = await music.add_album()
    song = await music.add_song()
    response = await client.post(
        f"/api/v1/albums/{album['id']}/songs",
        json={"song_id": song["id"], "track_number": 4},
        headers=music.admin,
    )
    assert response.status_code == 201
    assert response.headers["location"] == f"/api/v1/albums/{album['id']}/songs/{song['id']}"
    listed = {key: value for key, value in song.items() if key != "lyrics"}
    assert response.json() == {**listed, "track_number": 4, "liked_by_me": False}
    (event,) = [e for e in await music.outbox() if e["type"] == "music.album.updated"]
    assert event["payload"]["changed"] == ["tracks"]
    assert event["payload"]["track_added"] == {"song_id": song["id"], "track_number": 4}
    assert event["payload"]["actor_id"] == ADMIN_ID


async def test_the_same_song_twice_or_a_taken_number_is_409(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    album = await music.add_album()
    first, second = await music.add_song(1), await music.add_song(2)
    await music.add_track(album["id"], first["id"], 1)
    url = f"/api/v1/albums/{album['id']}/songs"

    twice = await client.post(
        url, json={"song_id": first["id"], "track_number": 2}, headers=music.admin
    )
    assert twice.status_code == 409
    assert twice.json() == {
        "detail": f"Song with id {first['id']} is already on album {album['id']}"
    }
    taken = await client.post(
        url, json={"song_id": second["id"], "track_number": 1}, headers=music.admin
    )
    assert taken.status_code == 409
    assert "track number 1" in taken.json()["detail"]
    missing_song = await client.post(
        url, json={"song_id": 999, "track_number": 2}, headers=music.admin
    )
    assert missing_song.status_code == 404
    assert missing_song.json() == {"detail": "Song with id 999 not found."}
    missing_album = await client.post(
        "/api/v1/albums/999/songs",
        json={"song_id": first["id"], "track_number": 2},
        headers=music.admin,
    )
    assert missing_album.status_code == 404
    assert await music.count("album_songs") == 1


async def test_a_song_may_be_on_several_albums(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    song = await music.add_song()
    albums = [await music.add_album(number) for number in range(2)]
    for album in albums:
        await music.add_track(album["id"], song["id"], 1)
    for album in albums:
        page = (await client.get(f"/api/v1/albums/{album['id']}/songs", headers=music.user)).json()
        assert [item["id"] for item in page["results"]] == [song["id"]]


async def test_removing_a_track_keeps_the_song(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    album = await music.add_album()
    song = await music.add_song()
    await music.add_track(album["id"], song["id"], 1)
    url = f"/api/v1/albums/{album['id']}/songs/{song['id']}"

    assert (await client.delete(url, headers=music.admin)).status_code == 204
    again = await client.delete(url, headers=music.admin)
    assert again.status_code == 404
    assert again.json() == {
        "detail": f"Song with id {song['id']} not found on album {album['id']}."
    }
    assert await music.count("songs") == 1
    assert await music.count("album_songs") == 0
    # The number is free again.
    await music.add_track(album["id"], song["id"], 1)


async def test_deleting_an_album_keeps_its_songs(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    album = await music.add_album()
    song = await music.add_song()
    await music.add_track(album["id"], song["id"], 1)
    assert (
        await client.delete(f"/api/v1/albums/{album['id']}", headers=music.admin)
    ).status_code == 204
    assert await music.count("songs") == 1
    assert await music.count("album_songs") == 0
    assert [e["type"] for e in await music.outbox("music.album.")] == [
        "music.album.created",
        "music.album.updated",
        "music.album.deleted",
    ]
