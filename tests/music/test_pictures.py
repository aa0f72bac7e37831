"""Event pictures on the canonical API."""

from __future__ import annotations

import httpx

from tests.music.conftest import MusicHarness, picture_body


async def test_picture_lifecycle(music: MusicHarness, client: httpx.AsyncClient) -> None:
    body = picture_body(1)
    created = await client.post("/api/v1/pictures", json=body, headers=music.admin)
    assert created.status_code == 201, created.text
    picture = created.json()
    assert created.headers["location"] == f"/api/v1/pictures/{picture['id']}"
    assert {key: picture[key] for key in body} == body

    assert (await client.get(f"/api/v1/pictures/{picture['id']}")).status_code == 401
    fetched = await client.get(f"/api/v1/pictures/{picture['id']}", headers=music.user)
    assert fetched.json() == picture
    changed = await client.patch(
        f"/api/v1/pictures/{picture['id']}",
        json={"event_city": "Porto", "event_date": None},
        headers=music.admin,
    )
    assert changed.status_code == 200
    assert (changed.json()["event_city"], changed.json()["event_date"]) == ("Porto", None)
    assert changed.json()["pic_url"] == body["pic_url"]

    assert (
        await client.delete(f"/api/v1/pictures/{picture['id']}", headers=music.admin)
    ).status_code == 204
    missing = await client.get(f"/api/v1/pictures/{picture['id']}", headers=music.user)
    assert missing.status_code == 404
    assert missing.json() == {"detail": f"Picture with id {picture['id']} not found"}
    assert [event["type"] for event in await music.outbox()] == [
        "music.picture.created",
        "music.picture.updated",
        "music.picture.deleted",
    ]


async def test_picture_list_is_public_and_paginated(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    ids = [(await music.add_picture(number))["id"] for number in range(3)]
    page = (await client.get("/api/v1/pictures?page_size=2")).json()
    assert page["count"] == 3
    assert [picture["id"] for picture in page["results"]] == ids[:2]
    rest = (await client.get(page["next"])).json()
    assert [picture["id"] for picture in rest["results"]] == ids[2:]
