"""The concert app's inherited routes (contract E): `/song`, `/picture` and `/count`, their
documented statuses, bodies and keys, over the catalogue's own rows."""

from __future__ import annotations

import httpx

from tests.music.conftest import MusicHarness, picture_body, song_body


async def test_legacy_song_lifecycle(music: MusicHarness, client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/song", json={"title": "Old Tune", "lyrics": "la la"}, headers=music.admin
    )
    assert created.status_code == 201, created.text
    body = created.json()
    song = {key: body[key] for key in ("id", "title", "lyrics", "_id")}
    assert song == {
        "id": body["inserted_id"],
        "title": "Old Tune",
        "lyrics": "la la",
        "_id": {"$oid": f"{body['inserted_id']:024x}"},
    }
    assert created.headers["location"] == f"/song/{song['id']}"

    assert (await client.get(f"/song/{song['id']}")).json() == song
    assert (await client.get("/song")).json() == {"songs": [song]}

    changed = await client.put(f"/song/{song['id']}", json={"lyrics": "la"}, headers=music.admin)
    assert changed.status_code == 200
    assert changed.json() == {**song, "lyrics": "la"}

    deleted = await client.delete(f"/song/{song['id']}", headers=music.admin)
    assert deleted.status_code == 204
    again = await client.delete(f"/song/{song['id']}", headers=music.admin)
    assert again.status_code == 404
    assert again.json()["message"] == "Song not found"


async def test_legacy_songs_are_catalogue_songs_with_defaults(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    legacy = (await client.post("/song", json={"title": "Hymn"}, headers=music.admin)).json()
    catalogue = await client.get(f"/api/v1/songs/{legacy['id']}", headers=music.user)
    assert catalogue.status_code == 200
    song = catalogue.json()
    assert (song["title"], song["lyrics"]) == ("Hymn", None)
    assert (song["artist"], song["genre"], song["file_url"], song["duration"]) == (
        "Unknown artist",
        "Unknown",
        "",
        0,
    )
    assert (song["description"], song["release_date"], song["like_count"]) == (None, None, 0)
    # And catalogue songs show on the legacy route.
    added = await music.add_song(5, lyrics="words")
    shown = (await client.get(f"/song/{added['id']}")).json()
    assert shown == {**shown, "id": added["id"], "title": added["title"], "lyrics": "words"}


async def test_legacy_song_with_a_chosen_id_then_a_duplicate(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    created = await client.post(
        "/song", json={"id": 50, "title": "Fifty", "lyrics": "x"}, headers=music.admin
    )
    assert created.status_code == 201
    assert created.json()["id"] == 50

    duplicate = await client.post(
        "/song", json={"id": 50, "title": "Again", "lyrics": "y"}, headers=music.admin
    )
    assert duplicate.status_code == 302
    assert duplicate.json()["message"] == "song with id 50 already present"
    assert (await client.get("/song/50")).json()["title"] == "Fifty"
    # Ids the database chooses continue after the chosen one, on both engines.
    assert (await music.add_song(1))["id"] > 50
    assert await music.count("songs") == 2


async def test_legacy_song_ids_must_be_positive_integers(
    client: httpx.AsyncClient, music: MusicHarness
) -> None:
    await music.add_song(1)
    for raw, number in (("0", 0), ("-3", -3), ("+0", 0)):
        for method, its in (("GET", "Its actual value is"), ("PUT", "Its actual value is")):
            response = await client.request(
                method, f"/song/{raw}", json={"title": "x"}, headers=music.admin
            )
            assert response.status_code == 400, (raw, method, response.text)
            text = f"ERROR: ID must be a positive integer. {its} {number}"
            assert response.json() == {"detail": text, "message": text}
        response = await client.delete(f"/song/{raw}", headers=music.admin)
        text = f"ERROR: ID must be a positive integer. Its value is {number}"
        assert (response.status_code, response.json()["message"]) == (400, text)
    for raw, shown in (("abc", "abc"), ("1.5", "1.5"), ("%20", " "), ("\u0663", "\u0663")):
        for method in ("GET", "PUT", "DELETE"):
            response = await client.request(
                method, f"/song/{raw}", json={"title": "x"}, headers=music.admin
            )
            assert response.status_code == 400, (raw, method, response.text)
            text = f"ERROR: Invalid ID format. Its actual value is '{shown}'"
            assert response.json()["message"] == text
    assert await music.count("songs") == 1


async def test_legacy_song_not_found_texts(music: MusicHarness, client: httpx.AsyncClient) -> None:
    for path in ("/song/77", "/song/99999999999"):
        response = await client.get(path)
        assert response.status_code == 404
        number = path.rsplit("/", 1)[1]
        assert response.json()["message"] == f"ERROR: song whose id is {number} not found"
    for path in ("/song/77", "/song/99999999999"):
        put = await client.put(path, json={"title": "x"}, headers=music.admin)
        assert put.status_code == 404
        assert put.json() == {"detail": "Song not found", "message": "Song not found"}
    assert await music.count("songs") == 0


async def test_legacy_song_bad_bodies_answer_400_with_message(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    for body, field in [
        ({"lyrics": "no title"}, "title"),
        ({"title": ""}, "title"),
        ({"title": "x" * 101}, "title"),
        ({"title": "x", "id": 0}, "id"),
        ({"title": "x", "id": "seven"}, "id"),
        ({"title": "x\u0000"}, "title"),
    ]:
        response = await client.post("/song", json=body, headers=music.admin)
        assert response.status_code == 400, (body, response.text)
        assert field in response.json()["message"], response.json()
    no_data = {
        "detail": "ERROR: Request data not found",
        "message": "ERROR: Request data not found",
    }
    for raw in (b"", b"{}", b"null", b"[1]", b"{not json"):
        response = await client.post(
            "/song", content=raw, headers={**music.admin, "Content-Type": "application/json"}
        )
        assert (response.status_code, response.json()) == (400, no_data), raw
    missing = await client.put("/song/1", headers=music.admin)
    assert (missing.status_code, missing.json()) == (400, no_data)
    assert await music.count("songs") == 0


async def test_legacy_song_bodies_may_carry_unknown_fields(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    body = {"id": 21, "title": "New", "artist": "Someone", "lyrics": "x", "_id": {"$oid": "f"}}
    created = await client.post("/song", json=body, headers=music.admin)
    assert created.status_code == 201, created.text
    assert created.json()["inserted_id"] == 21
    stored = await music.stored_song(21)
    assert stored is not None
    # Only what the route knows is stored: the catalogue's artist keeps its default.
    assert (stored.title, stored.lyrics, stored.artist, stored.like_count) == (
        "New",
        "x",
        "Unknown artist",
        0,
    )
    changed = await client.put(
        "/song/21",
        json={"id": 21, "title": "Renamed", "artist": "Other", "like_count": 99},
        headers=music.admin,
    )
    assert changed.status_code == 200, changed.text
    assert {key: changed.json()[key] for key in ("id", "title", "lyrics")} == {
        "id": 21,
        "title": "Renamed",
        "lyrics": "x",
    }
    stored = await music.stored_song(21)
    assert stored is not None
    assert (stored.title, stored.artist, stored.like_count) == ("Renamed", "Unknown artist", 0)
    moved = await client.put("/song/21", json={"id": 22, "title": "Moved"}, headers=music.admin)
    assert moved.status_code == 400
    assert "id" in moved.json()["message"]
    assert (await music.stored_song(21)) is not None
    assert (await music.stored_song(22)) is None
    canonical = await client.post(
        "/api/v1/songs", json={**song_body(1), "mood": "happy"}, headers=music.admin
    )
    assert canonical.status_code == 422  # the canonical API stays strict


async def test_legacy_writes_need_an_admin(music: MusicHarness, client: httpx.AsyncClient) -> None:
    anonymous = await client.post("/song", json={"title": "x"})
    assert anonymous.status_code == 401
    assert anonymous.json()["message"] == "Not authenticated"
    user = await client.post("/picture", json=picture_body(), headers=music.user)
    assert user.status_code == 403
    assert user.json() == {
        "detail": "Insufficient permissions",
        "Message": "Insufficient permissions",
    }


async def test_legacy_picture_lifecycle(music: MusicHarness, client: httpx.AsyncClient) -> None:
    body = picture_body(1, event_date="05/31/2026")
    created = await client.post("/picture", json=body, headers=music.admin)
    assert created.status_code == 201, created.text
    saved = created.json()
    picture_id = saved["id"]
    assert saved["Message"] == "Picture added successfully"
    assert saved["picture"] == {**body, "id": picture_id}
    assert created.headers["location"] == f"/picture/{picture_id}"
    canonical = await client.get(f"/api/v1/pictures/{picture_id}", headers=music.user)
    assert canonical.json()["event_date"] == "2026-05-31"

    assert (await client.get(f"/picture/{picture_id}")).json() == saved["picture"]
    assert (await client.get("/picture")).json() == [saved["picture"]]

    updated = await client.put(
        f"/picture/{picture_id}", json={"event_city": "Faro"}, headers=music.admin
    )
    assert updated.status_code == 200
    assert updated.json() == {
        "Message": "Picture updated successfully",
        "picture": {**saved["picture"], "event_city": "Faro"},
        "id": picture_id,
    }

    assert (await client.delete(f"/picture/{picture_id}", headers=music.admin)).status_code == 204
    for method in ("GET", "DELETE"):
        missing = await client.request(method, f"/picture/{picture_id}", headers=music.admin)
        assert missing.status_code == 404
        assert missing.json()["message"] == f"Picture with id {picture_id} not found"


async def test_legacy_picture_duplicate_id_is_302(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    first = await client.post("/picture", json={**picture_body(1), "id": 9}, headers=music.admin)
    assert first.status_code == 201
    assert first.json()["id"] == 9
    duplicate = await client.post(
        "/picture", json={**picture_body(2), "id": 9}, headers=music.admin
    )
    assert duplicate.status_code == 302
    body = duplicate.json()
    assert body["Message"] == "picture with id 9 already present"
    assert body["picture"]["pic_url"] == picture_body(1)["pic_url"]
    assert await music.count("pictures") == 1


async def test_legacy_picture_put_creates_a_missing_id(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    created = await client.put("/picture/40", json=picture_body(4), headers=music.admin)
    assert created.status_code == 200, created.text
    assert created.json()["Message"] == "Picture updated successfully"
    assert created.json()["picture"]["id"] == 40
    assert (await music.add_picture(5))["id"] == 41

    incomplete = await client.put("/picture/60", json={"event_city": "Braga"}, headers=music.admin)
    assert incomplete.status_code == 400
    assert "pic_url" in incomplete.json()["Message"]
    assert await music.count("pictures") == 2


async def test_legacy_picture_dates_and_bad_input(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    iso = await client.post(
        "/picture", json=picture_body(1, event_date="2026-01-02"), headers=music.admin
    )
    assert iso.json()["picture"]["event_date"] == "2026-01-02"
    for body, field in [
        (picture_body(2, event_date="13/01/2026"), "event_date"),
        (picture_body(2, event_date="02/30/2026"), "event_date"),
        (picture_body(2, event_date="yesterday"), "event_date"),
        ({"event_city": "Lisbon"}, "pic_url"),
        (picture_body(2, event_city="x" * 101), "event_city"),
    ]:
        response = await client.post("/picture", json=body, headers=music.admin)
        assert response.status_code == 400, (body, response.text)
        assert field in response.json()["Message"]
    canonical = await client.post(
        "/api/v1/pictures", json=picture_body(3, event_date="05/31/2026"), headers=music.admin
    )
    assert canonical.status_code == 422  # the canonical API takes ISO dates only
    assert await music.count("pictures") == 1


async def test_ids_are_never_reused(music: MusicHarness, client: httpx.AsyncClient) -> None:
    first, second = await music.add_song(1), await music.add_song(2)
    await client.delete(f"/api/v1/songs/{second['id']}", headers=music.admin)
    third = await music.add_song(3)
    assert third["id"] > second["id"]
    # A chosen id below the highest ever given does not move the next ids back.
    await client.delete(f"/api/v1/songs/{first['id']}", headers=music.admin)
    chosen = await client.post(
        "/song", json={"id": first["id"], "title": "Back"}, headers=music.admin
    )
    assert chosen.status_code == 201
    assert (await music.add_song(4))["id"] == third["id"] + 1
    picture = await music.add_picture(1)
    await client.delete(f"/api/v1/pictures/{picture['id']}", headers=music.admin)
    assert (await music.add_picture(2))["id"] == picture["id"] + 1


async def test_a_chosen_id_cannot_use_up_the_catalogues_ids(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    """PostgreSQL's ids are INTEGERs: a client choosing the largest would leave the catalogue
    none to choose, and every later creation would fail."""
    for path, body in (
        ("/song", {"id": 2_147_483_647, "title": "Last"}),
        ("/picture", {**picture_body(1), "id": 2_147_483_647}),
    ):
        refused = await client.post(path, json=body, headers=music.admin)
        assert refused.status_code == 400, refused.text
        assert "id" in refused.text
    refused = await client.put("/picture/2147483647", json=picture_body(2), headers=music.admin)
    assert refused.status_code == 400, refused.text
    highest = await client.post(
        "/song", json={"id": 1_000_000_000, "title": "Highest"}, headers=music.admin
    )
    assert highest.status_code == 201, highest.text
    assert (await music.add_song(1))["id"] == 1_000_000_001
    assert await music.count("songs") == 2
    assert await music.count("pictures") == 0
