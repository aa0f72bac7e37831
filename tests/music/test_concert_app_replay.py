"""The concert app's original Songs and Pictures services' own test assertions, replayed over
HTTP at the gateway (its route table, the music service behind it) with an admin token, on a
catalogue seeded as their fixtures were: 20 songs with ids 1 to 20, 10 pictures with ids 1 to 10
and dates in the original's `MM/DD/YYYY` form. Where an original looked into its Mongo
collection, the replay looks at the stored rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bandstand import registry
from bandstand.gateway.app import create_gateway_app
from bandstand.gateway.upstream import InProcessUpstream
from bandstand.music.app import create_app
from bandstand.platform.runtime import Runtime
from bandstand.platform.settings import Settings
from tests.music.conftest import ADMIN_ID, MusicHarness
from tests.support.client import api_client
from tests.support.tokens import TokenFactory

SONGS = [{"id": n, "title": f"Song {n}", "lyrics": f"Lyrics of song {n}."} for n in range(1, 21)]
PICTURES = [
    {
        "id": n,
        "pic_url": f"http://dummyimage.com/{100 + n}x100.png/dddddd/000000",
        "event_country": "United States",
        "event_state": "California",
        "event_city": "Fremont",
        "event_date": f"11/{n}/2022",
    }
    for n in range(1, 11)
]
NEW_PICTURE = {
    "id": 200,
    "pic_url": "http://dummyimage.com/230x100.png/dddddd/000000",
    "event_country": "United States",
    "event_state": "California",
    "event_city": "Fremont",
    "event_date": "11/2/2030",
}


@pytest.fixture
async def replay(music_settings: Settings, tokens: TokenFactory) -> AsyncIterator[MusicHarness]:
    """The gateway in front of a seeded music service; its client sends an admin token."""
    music = create_app(Runtime(music_settings, jwks_fetch=tokens.jwks))
    upstreams = {"music": InProcessUpstream("music", music)}
    gateway = create_gateway_app(
        registry.route_table(), upstreams, music_settings, access_log=False
    )
    admin = tokens.headers(user_id=ADMIN_ID, role="admin")
    async with api_client(gateway, raise_app_exceptions=False, headers=admin) as client:
        for song in SONGS:
            assert (await client.post("/song", json=song)).status_code == 201
        for picture in PICTURES:
            assert (await client.post("/picture", json=picture)).status_code == 201
        yield MusicHarness(music, client, tokens)


def _json(response: httpx.Response) -> Any:
    return response.json()


# The Songs service's tests.


async def test_health(replay: MusicHarness) -> None:
    res = await replay.client.get("/health")
    assert res.status_code == 200


async def test_count(replay: MusicHarness) -> None:
    res = await replay.client.get("/count")
    data = _json(res)
    assert data["count"] == 20
    assert res.status_code == 200


async def test_get_all_songs(replay: MusicHarness) -> None:
    res = await replay.client.get("/song")
    assert res.status_code == 200
    data = _json(res)
    assert "songs" in data
    assert isinstance(data["songs"], list)
    assert len(data["songs"]) > 0
    for song in data["songs"]:
        assert isinstance(song, dict)
        assert "id" in song
        assert "title" in song
        assert "lyrics" in song
        assert "_id" in song


async def test_get_song_by_id_success(replay: MusicHarness) -> None:
    res = await replay.client.get("/song/1")
    assert res.status_code == 200
    song_data = _json(res)
    assert isinstance(song_data, dict)
    assert song_data["id"] == 1
    assert "title" in song_data


async def test_get_song_by_id_not_found(replay: MusicHarness) -> None:
    res = await replay.client.get("/song/99999")
    assert res.status_code == 404
    assert _json(res)["message"] == "ERROR: song whose id is 99999 not found"


@pytest.mark.parametrize("method", ["GET", "PUT"])
async def test_song_by_id_invalid_id(replay: MusicHarness, method: str) -> None:
    body = {"title": "Invalid ID Song"} if method == "PUT" else None
    res = await replay.client.request(method, "/song/0", json=body)
    assert res.status_code == 400
    assert _json(res)["message"] == "ERROR: ID must be a positive integer. Its actual value is 0"

    res = await replay.client.request(method, "/song/-5", json=body)
    assert res.status_code == 400
    assert _json(res)["message"] == "ERROR: ID must be a positive integer. Its actual value is -5"

    res = await replay.client.request(method, "/song/xyz", json=body)
    assert res.status_code == 400
    assert _json(res)["message"] == "ERROR: Invalid ID format. Its actual value is 'xyz'"


async def test_create_song_success(replay: MusicHarness) -> None:
    new_song = {
        "id": 21,
        "title": "New Test Song",
        "artist": "New Test Artist",
        "lyrics": "New test lyrics.",
    }
    res = await replay.client.post("/song", json=new_song)
    assert res.status_code == 201
    response_data = _json(res)
    assert "inserted_id" in response_data
    assert await replay.stored_song(21) is not None


async def test_create_song_already_exists(replay: MusicHarness) -> None:
    existing_song_data = {
        "id": 1,
        "title": "Existing Song Title",
        "artist": "Existing Artist",
        "lyrics": "Some lyrics.",
    }
    res = await replay.client.post("/song", json=existing_song_data)
    assert res.status_code == 302
    assert _json(res)["message"] == "song with id 1 already present"


async def test_create_song_no_data(replay: MusicHarness) -> None:
    res = await replay.client.post("/song", json={})
    assert res.status_code == 400
    assert _json(res)["message"] == "ERROR: Request data not found"


async def test_update_song_success(replay: MusicHarness) -> None:
    updated_data = {"title": "Updated Test Song Title", "artist": "Updated Artist Name"}
    res = await replay.client.put("/song/1", json=updated_data)
    assert res.status_code in [200, 201]
    response_data = _json(res)
    assert response_data["id"] == 1
    assert response_data["title"] == "Updated Test Song Title"
    updated_in_db = await replay.stored_song(1)
    assert updated_in_db is not None
    assert updated_in_db.title == "Updated Test Song Title"


async def test_update_song_not_found(replay: MusicHarness) -> None:
    res = await replay.client.put("/song/99999", json={"title": "Non Existent Song"})
    assert res.status_code == 404
    assert _json(res)["message"] == "Song not found"


async def test_delete_song_success(replay: MusicHarness) -> None:
    temp_song_id = 100
    await replay.client.post(
        "/song",
        json={"id": temp_song_id, "title": "Temp Delete", "artist": "Temp", "lyrics": "Temp"},
    )
    res = await replay.client.delete(f"/song/{temp_song_id}")
    assert res.status_code == 204
    assert await replay.stored_song(temp_song_id) is None


async def test_delete_song_not_found(replay: MusicHarness) -> None:
    res = await replay.client.delete("/song/99999")
    assert res.status_code == 404
    assert _json(res)["message"] == "Song not found"


async def test_delete_song_invalid_id(replay: MusicHarness) -> None:
    res = await replay.client.delete("/song/0")
    assert res.status_code == 400
    assert _json(res)["message"] == "ERROR: ID must be a positive integer. Its value is 0"

    res = await replay.client.delete("/song/-5")
    assert res.status_code == 400
    assert _json(res)["message"] == "ERROR: ID must be a positive integer. Its value is -5"

    res = await replay.client.delete("/song/xyz")
    assert res.status_code == 400
    assert _json(res)["message"] == "ERROR: Invalid ID format. Its actual value is 'xyz'"


# The Pictures service's tests: one module whose tests build on each other, run in its order.


async def test_the_pictures_service_tests_in_order(replay: MusicHarness) -> None:
    client = replay.client
    res = await client.get("/health")
    assert res.status_code == 200

    res = await client.get("/count")
    assert res.status_code == 200
    assert _json(res)["length"] == 10

    res = await client.get("/picture")
    assert len(_json(res)) == 10

    res = await client.get("/picture")
    assert res.status_code == 200
    assert len(_json(res)) == 10

    res = await client.get("/picture")
    assert res.headers["Content-Type"] == "application/json"

    res = await client.get("/picture/2")
    assert res.status_code == 200
    assert _json(res)["id"] == 2
    res = await client.get("/picture/404")
    assert res.status_code == 404

    res = await client.get("/picture")
    assert len(_json(res)) > 0

    # test_post_picture
    res = await client.post("/picture", json=NEW_PICTURE)
    assert res.status_code == 201
    assert _json(res)["id"] == NEW_PICTURE["id"]
    res = await client.get("/count")
    assert res.status_code == 200
    assert _json(res)["length"] == 11

    # test_post_picture_duplicate
    res = await client.post("/picture", json=NEW_PICTURE)
    assert res.status_code == 302
    assert _json(res)["Message"] == f"picture with id {NEW_PICTURE['id']} already present"

    # test_update_picture_by_id: the whole object read back, changed, sent back
    res = await client.get("/picture/2")
    res_picture = _json(res)
    assert res_picture["id"] == 2
    new_state = "*" + res_picture["event_state"]
    res_picture["event_state"] = new_state
    res = await client.put("/picture/2", json=res_picture)
    assert res.status_code == 200, res.text
    res = await client.get("/picture/2")
    assert _json(res)["event_state"] == new_state

    # test_delete_picture_by_id
    res = await client.get("/count")
    assert _json(res)["length"] == 11
    res = await client.delete("/picture/1")
    assert res.status_code == 204
    res = await client.get("/count")
    assert _json(res)["length"] == 10
    res = await client.delete("/picture/100")
    assert res.status_code == 404


async def test_picture_dates_come_back_as_they_were_sent(replay: MusicHarness) -> None:
    client = replay.client
    listed = _json(await client.get("/picture"))
    assert [picture["event_date"] for picture in listed] == [p["event_date"] for p in PICTURES]
    created = _json(await client.post("/picture", json=NEW_PICTURE))
    assert created["picture"]["event_date"] == "11/2/2030"
    assert _json(await client.get("/picture/200"))["event_date"] == "11/2/2030"
    assert _json(await client.get("/api/v1/pictures/200"))["event_date"] == "2030-11-02"

    # Another form of the date, then the same day through the canonical API (ISO from then on).
    iso = await client.put("/picture/200", json={**NEW_PICTURE, "event_date": "2030-11-03"})
    assert iso.json()["picture"]["event_date"] == "2030-11-03"
    again = await client.put("/picture/200", json={"event_date": "1/5/2031"})
    assert again.json()["picture"]["event_date"] == "1/5/2031"
    canonical = await client.patch("/api/v1/pictures/200", json={"event_date": "2031-01-06"})
    assert canonical.status_code == 200, canonical.text
    assert _json(await client.get("/picture/200"))["event_date"] == "2031-01-06"
    cleared = await client.put("/picture/200", json={"event_date": None})
    assert cleared.json()["picture"]["event_date"] is None
