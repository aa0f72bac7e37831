"""Likes: idempotent, always the caller's own, counted on the song, listed for their owner only."""

from __future__ import annotations

import asyncio

import httpx

from tests.music.conftest import USER_ID, MusicHarness


async def test_like_is_idempotent_and_counted(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    song = await music.add_song()
    url = f"/api/v1/songs/{song['id']}/like"

    first = await client.put(url, headers=music.user)
    assert first.status_code == 200
    assert first.json() == {"song_id": song["id"], "liked": True, "like_count": 1}
    again = await client.put(url + "/", headers=music.user)
    assert again.json() == {"song_id": song["id"], "liked": True, "like_count": 1}
    other = await client.put(url, headers=music.other)
    assert other.json()["like_count"] == 2
    assert await music.count("likes") == 2

    removed = await client.delete(url, headers=music.user)
    assert removed.status_code == 204
    assert (await client.delete(url, headers=music.user)).status_code == 204
    assert await music.like_counts() == {song["id"]: (1, 1)}
    assert (await client.delete(url, headers=music.user)).status_code == 204
    assert await music.like_counts() == {song["id"]: (1, 1)}


async def test_like_events_only_when_something_changed(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    song = await music.add_song()
    url = f"/api/v1/songs/{song['id']}/like"
    for method in ("PUT", "PUT", "DELETE", "DELETE"):
        await client.request(method, url, headers=music.user)

    events = [event for event in await music.outbox() if "liked" in event["type"]]
    assert [(event["type"], event["payload"]) for event in events] == [
        ("music.song.liked", {"song_id": song["id"], "user_id": USER_ID, "like_count": 1}),
        ("music.song.unliked", {"song_id": song["id"], "user_id": USER_ID, "like_count": 0}),
    ]


async def test_liking_a_missing_song_is_404_and_stores_nothing(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    for method in ("PUT", "DELETE"):
        response = await client.request(method, "/api/v1/songs/42/like", headers=music.user)
        assert response.status_code == 404
        assert response.json() == {"detail": "Song with id 42 not found."}
    assert await music.count("likes") == 0


async def test_one_user_cannot_touch_anothers_like(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    song = await music.add_song()
    await music.like(song["id"], music.user)

    # The only like routes act on the caller's own like: the other user's DELETE is a no-op.
    response = await client.delete(f"/api/v1/songs/{song['id']}/like", headers=music.other)
    assert response.status_code == 204
    assert await music.like_counts() == {song["id"]: (1, 1)}
    mine = (await client.get("/api/v1/me/likes", headers=music.user)).json()
    theirs = (await client.get("/api/v1/me/likes", headers=music.other)).json()
    assert [item["id"] for item in mine["results"]] == [song["id"]]
    assert theirs == {"count": 0, "next": None, "previous": None, "results": []}


async def test_liked_by_me_is_the_callers_own(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    liked = await music.add_song(1)
    other = await music.add_song(2)
    await music.like(liked["id"], music.user)
    await music.like(other["id"], music.other)

    def flags(response: httpx.Response) -> dict[int, object]:
        return {song["id"]: song["liked_by_me"] for song in response.json()["results"]}

    assert flags(await client.get("/api/v1/songs", headers=music.user)) == {
        liked["id"]: True,
        other["id"]: False,
    }
    assert flags(await client.get("/api/v1/songs", headers=music.other)) == {
        liked["id"]: False,
        other["id"]: True,
    }
    assert flags(await client.get("/api/v1/songs")) == {liked["id"]: None, other["id"]: None}
    detail = await client.get(f"/api/v1/songs/{liked['id']}", headers=music.other)
    assert detail.json()["liked_by_me"] is False
    assert detail.json()["like_count"] == 1


async def test_my_likes_newest_first_with_the_time(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    songs = [await music.add_song(number) for number in range(4)]
    for song in (songs[2], songs[0], songs[3]):
        await music.like(song["id"], music.user)

    response = await client.get("/api/v1/me/likes?page_size=2", headers=music.user)

    assert response.status_code == 200
    page = response.json()
    assert page["count"] == 3
    assert [item["id"] for item in page["results"]] == [songs[3]["id"], songs[0]["id"]]
    assert all(item["liked_by_me"] is True for item in page["results"])
    assert page["results"][0]["liked_at"] >= page["results"][1]["liked_at"]
    rest = (await client.get(page["next"], headers=music.user)).json()
    assert [item["id"] for item in rest["results"]] == [songs[2]["id"]]
    assert (await client.get("/api/v1/me/likes")).status_code == 401


async def test_concurrent_likes_are_all_counted(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    song = await music.add_song()
    users = range(100, 112)
    responses = await asyncio.gather(
        *(music.like(song["id"], music.headers(user_id)) for user_id in users),
        *(music.like(song["id"], music.headers(user_id)) for user_id in users),
    )
    assert {response.status_code for response in responses} == {200}
    assert await music.like_counts() == {song["id"]: (len(users), len(users))}
    removals = await asyncio.gather(
        *(
            client.delete(f"/api/v1/songs/{song['id']}/like", headers=music.headers(user_id))
            for user_id in users
        )
    )
    assert {response.status_code for response in removals} == {204}
    assert await music.like_counts() == {song["id"]: (0, 0)}
