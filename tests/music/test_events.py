"""Events music publishes through its outbox, and its handling of `identity.user.deleted`: the
user's likes go and the songs' counts follow, once per message however often it is delivered."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

import httpx

from bandstand.music import events
from bandstand.platform.messaging import (
    Broker,
    Delivery,
    Message,
    RetryPolicy,
    handle_idempotently,
)
from tests.music.conftest import ADMIN_ID, USER_ID, MusicHarness


class _Delivered(Delivery):
    """A delivery handed straight to the consumer, as a broker would (re)deliver it."""

    def __init__(self, message: Message) -> None:
        super().__init__(events.IDENTITY_EVENTS_QUEUE, message, 1, RetryPolicy())

    async def _ack(self) -> None:
        pass

    async def _retry(self, delay: float) -> None:
        pass

    async def _dead_letter(self) -> None:
        pass

    async def _release(self) -> None:
        pass


def user_deleted(user_id: int) -> Message:
    return Message.new(events.USER_DELETED, {"user_id": user_id, "actor_id": 1}, "identity")


async def test_song_events_carry_the_fields_but_not_the_lyrics(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    song = await music.add_song(1, lyrics="secret words " * 50, release_date="2020-02-02")
    await client.put(
        f"/api/v1/songs/{song['id']}",
        json={"title": "New title", "lyrics": "other"},
        headers=music.admin,
    )
    await client.delete(f"/api/v1/songs/{song['id']}", headers=music.admin)

    created, updated, deleted = await music.outbox()
    for message in (created, updated, deleted):
        assert message["source"] == "music"
        uuid.UUID(message["id"])
        assert datetime.fromisoformat(message["occurred_at"]).utcoffset() is not None
        assert "lyrics" not in message["payload"]
        assert message["payload"]["actor_id"] == ADMIN_ID
    assert created["type"] == "music.song.created"
    assert created["payload"] == {
        "song_id": song["id"],
        "title": song["title"],
        "artist": song["artist"],
        "genre": song["genre"],
        "file_url": song["file_url"],
        "duration": song["duration"],
        "release_date": "2020-02-02",
        "actor_id": ADMIN_ID,
    }
    assert updated["type"] == "music.song.updated"
    assert updated["payload"]["changed"] == ["title", "lyrics"]
    assert updated["payload"]["title"] == "New title"
    assert deleted["type"] == "music.song.deleted"
    assert deleted["payload"] == {
        "song_id": song["id"],
        "title": "New title",
        "artist": song["artist"],
        "actor_id": ADMIN_ID,
    }


async def test_album_and_picture_events(music: MusicHarness, client: httpx.AsyncClient) -> None:
    album = await music.add_album(1, genre="Jazz")
    await client.patch(f"/api/v1/albums/{album['id']}", json={"genre": "Soul"}, headers=music.admin)
    picture = await music.add_picture(1)
    await client.put(f"/picture/{picture['id']}", json={"event_city": "Faro"}, headers=music.admin)

    messages = await music.outbox()
    assert [(m["type"], m["payload"].get("changed")) for m in messages] == [
        ("music.album.created", None),
        ("music.album.updated", ["genre"]),
        ("music.picture.created", None),
        ("music.picture.updated", ["event_city"]),
    ]
    assert messages[1]["payload"]["genre"] == "Soul"
    assert messages[2]["payload"]["picture_id"] == picture["id"]
    assert messages[3]["payload"]["event_city"] == "Faro"


async def test_refused_requests_publish_nothing(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    song = await music.add_song(1)
    before = await music.outbox()
    await client.post("/api/v1/songs", json={"title": "x"}, headers=music.admin)
    await client.put(f"/api/v1/songs/{song['id']}", json={"title": "y"}, headers=music.user)
    await client.put("/api/v1/songs/999/like", headers=music.user)
    await client.post("/song", json={"id": song["id"], "title": "dup"}, headers=music.admin)
    assert await music.outbox() == before


async def test_a_deleted_users_likes_go_once_per_message(music: MusicHarness) -> None:
    first, second = await music.add_song(1), await music.add_song(2)
    for song in (first, second):
        await music.like(song["id"], music.user)
    await music.like(first["id"], music.other)
    message = user_deleted(USER_ID)
    (subscription,) = events.SUBSCRIPTIONS

    async def deliver(delivered: Message) -> None:
        await handle_idempotently(
            music.database, subscription.queue, _Delivered(delivered), subscription.handle
        )

    await deliver(message)
    assert await music.like_counts() == {first["id"]: (1, 1), second["id"]: (0, 0)}
    mine = await music.client.get("/api/v1/me/likes", headers=music.user)
    assert mine.json()["count"] == 0

    # The user likes again (a token issued before the deletion may still be valid a while);
    # a redelivery of the same message changes nothing, a new message erases again.
    await music.like(second["id"], music.user)
    await deliver(message)
    assert await music.like_counts() == {first["id"]: (1, 1), second["id"]: (1, 1)}
    await deliver(user_deleted(USER_ID))
    assert await music.like_counts() == {first["id"]: (1, 1), second["id"]: (0, 0)}
    await deliver(user_deleted(4242))  # a user without likes
    assert await music.like_counts() == {first["id"]: (1, 1), second["id"]: (0, 0)}


async def test_the_apps_subscription_erases_likes_from_the_broker(music: MusicHarness) -> None:
    songs = [await music.add_song(number) for number in range(3)]
    for song in songs:
        await music.like(song["id"], music.user)
    await music.like(songs[0]["id"], music.other)
    async with asyncio.timeout(10):
        await music.app.state.subscriptions.wait_subscribed()
    broker: Broker = music.app.state.runtime.broker

    message = user_deleted(USER_ID)
    await broker.publish([message, message])  # delivered twice
    await broker.publish([Message.new("identity.user.registered", {"user_id": 99}, "identity")])

    expected = {songs[0]["id"]: (1, 1), songs[1]["id"]: (0, 0), songs[2]["id"]: (0, 0)}
    async with asyncio.timeout(10):
        while await music.like_counts() != expected:
            await asyncio.sleep(0.05)
        while await broker.queue_depth(events.IDENTITY_EVENTS_QUEUE) > 0:
            await asyncio.sleep(0.05)
    other = await music.client.get("/api/v1/me/likes", headers=music.other)
    assert [item["id"] for item in other.json()["results"]] == [songs[0]["id"]]
