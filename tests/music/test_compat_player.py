"""The music player's inherited routes (contract C): bare lists up to `?limit=`, its 404 texts,
its permissions, and the same rows as the canonical API."""

from __future__ import annotations

import httpx

from tests.music.conftest import MusicHarness, album_body, song_body


async def test_song_routes(music: MusicHarness, client: httpx.AsyncClient) -> None:
    created = await client.post("/songs", json=song_body(1), headers=music.admin)
    assert created.status_code == 201, created.text
    song = created.json()
    assert created.headers["location"] == f"/songs/{song['id']}"
    contract_fields = {
        "id", "title", "artist", "genre", "file_url", "duration", "description",
        "cover_image_url", "release_date", "created_at", "updated_at",
    }  # fmt: skip
    assert contract_fields <= set(song)

    fetched = await client.get(f"/songs/{song['id']}", headers=music.user)
    assert fetched.status_code == 200
    canonical = await client.get(f"/api/v1/songs/{song['id']}", headers=music.user)
    assert fetched.json() == canonical.json()

    changed = await client.put(f"/songs/{song['id']}", json={"genre": "Pop"}, headers=music.admin)
    assert changed.status_code == 200
    assert changed.json()["genre"] == "Pop"

    deleted = await client.delete(f"/songs/{song['id']}", headers=music.admin)
    assert deleted.status_code == 200
    assert deleted.json() == {"detail": "Song deleted"}
    missing = await client.get(f"/songs/{song['id']}", headers=music.user)
    assert missing.status_code == 404
    assert missing.json() == {"detail": f"Song with id {song['id']} not found."}
    assert (await client.delete(f"/songs/{song['id']}", headers=music.admin)).status_code == 404


async def test_song_list_is_a_bare_list_up_to_limit(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    ids = [(await music.add_song(number))["id"] for number in range(3)]
    await music.like(ids[1], music.user)

    response = await client.get("/songs")
    assert response.status_code == 200
    assert [song["id"] for song in response.json()] == ids
    limited = await client.get("/songs?limit=2", headers=music.user)
    assert [(song["id"], song["liked_by_me"]) for song in limited.json()] == [
        (ids[0], False),
        (ids[1], True),
    ]
    assert (await client.get("/songs?limit=0")).status_code == 422
    assert (await client.get("/songs?limit=1001")).status_code == 422


async def test_album_routes(music: MusicHarness, client: httpx.AsyncClient) -> None:
    created = await client.post("/albums", json=album_body(1), headers=music.admin)
    assert created.status_code == 201
    album = created.json()
    assert created.headers["location"] == f"/albums/{album['id']}"
    assert (await client.get("/albums")).json() == [album]
    assert (await client.get(f"/albums/{album['id']}", headers=music.user)).json() == album

    changed = await client.put(
        f"/albums/{album['id']}", json={"description": "Remastered"}, headers=music.admin
    )
    assert changed.json()["description"] == "Remastered"

    missing = await client.get("/albums/999", headers=music.user)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Album with id 999 not found."}
    deleted = await client.delete(f"/albums/{album['id']}", headers=music.admin)
    assert deleted.status_code == 200
    assert deleted.json() == {"detail": "Album deleted"}
    assert (await client.get("/albums")).json() == []


async def test_album_songs_in_track_order(music: MusicHarness, client: httpx.AsyncClient) -> None:
    album = await music.add_album()
    songs = [await music.add_song(number) for number in range(3)]
    for track, song in zip((2, 3, 1), songs, strict=True):
        await music.add_track(album["id"], song["id"], track)

    response = await client.get(f"/albums/{album['id']}/songs", headers=music.user)
    assert response.status_code == 200
    assert [song["id"] for song in response.json()] == [
        songs[2]["id"],
        songs[0]["id"],
        songs[1]["id"],
    ]
    limited = await client.get(f"/albums/{album['id']}/songs?limit=1", headers=music.user)
    assert [song["track_number"] for song in limited.json()] == [1]
    assert (await client.get(f"/albums/{album['id']}/songs")).status_code == 401
    missing = await client.get("/albums/999/songs", headers=music.user)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Album with id 999 not found."}
