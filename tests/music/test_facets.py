"""The songs' filter choices (`/api/v1/songs/facets`) and the albums a song is on
(`/api/v1/albums?song=`)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bandstand.music.repository import FACET_LIMIT
from tests.music.conftest import MusicHarness


async def _facets(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/api/v1/songs/facets")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_facets_of_an_empty_catalogue(client: httpx.AsyncClient) -> None:
    assert await _facets(client) == {"genres": [], "artists": []}


async def test_facets_count_songs_most_frequent_first_then_by_name(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    rows = [
        *({"genre": "jazz", "artist": "ana"} for _ in range(2)),
        *({"genre": "rock", "artist": "bo"} for _ in range(3)),
        {"genre": "fado", "artist": "ana"},
        {"genre": "blues", "artist": "cy"},
    ]
    await music.insert_songs(rows)

    facets = await _facets(client)

    assert facets["genres"] == [
        {"value": "rock", "count": 3},
        {"value": "jazz", "count": 2},
        {"value": "blues", "count": 1},
        {"value": "fado", "count": 1},
    ]
    assert facets["artists"] == [
        {"value": "ana", "count": 3},
        {"value": "bo", "count": 3},
        {"value": "cy", "count": 1},
    ]


async def test_facets_follow_writes_and_are_not_taken_for_a_song_id(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    song = await music.add_song(1, genre="pop", artist="dee")
    assert (await _facets(client))["genres"] == [{"value": "pop", "count": 1}]
    changed = await client.patch(
        f"/api/v1/songs/{song['id']}", json={"genre": "soul"}, headers=music.admin
    )
    assert changed.status_code == 200, changed.text
    assert (await _facets(client))["genres"] == [{"value": "soul", "count": 1}]
    # The song routes still take ids.
    assert (await client.get(f"/api/v1/songs/{song['id']}", headers=music.user)).status_code == 200


async def test_facets_are_computed_once_per_write(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    """Kept like the lists' counts: read again without a statement, grouped again after a write."""
    await music.add_song(1, genre="pop")
    first = await _facets(client)
    with music.statements() as executed:
        again = await _facets(client)
    assert again == first
    assert executed == []
    await music.add_song(2, genre="pop")
    with music.statements() as executed:
        after_write = await _facets(client)
    assert after_write["genres"] == [{"value": "pop", "count": 2}]
    assert len(executed) == 2  # the genres' grouping and the artists'


async def test_facets_list_at_most_the_limit_of_the_most_frequent(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    # Every artist once, one of them twice: that one first, then the others by name.
    rows = [{"artist": f"artist {number:04d}"} for number in range(FACET_LIMIT + 5)]
    rows.append({"artist": "artist 0150"})
    await music.insert_songs(rows)

    artists = (await _facets(client))["artists"]

    assert len(artists) == FACET_LIMIT
    assert artists[0] == {"value": "artist 0150", "count": 2}
    others = [item["value"] for item in artists[1:]]
    expected = [f"artist {number:04d}" for number in range(FACET_LIMIT + 5) if number != 150]
    assert others == expected[: FACET_LIMIT - 1]


async def test_albums_of_a_song_with_its_track_numbers(
    music: MusicHarness, client: httpx.AsyncClient
) -> None:
    song, alone, other = [await music.add_song(number) for number in range(3)]
    first = await music.add_album(1, title="Zebra")
    compilation = await music.add_album(2, title="Anthology")
    elsewhere = await music.add_album(3)
    await music.add_track(first["id"], song["id"], 4)
    await music.add_track(compilation["id"], song["id"], 11)
    await music.add_track(compilation["id"], other["id"], 1)
    await music.add_track(elsewhere["id"], other["id"], 1)

    async def albums(song_id: int, **params: object) -> list[tuple[int, int]]:
        response = await client.get("/api/v1/albums", params={"song": song_id, **params})
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["count"] == (2 if song_id == song["id"] else 0)
        return [(item["id"], item["track_number"]) for item in page["results"]]

    assert await albums(song["id"]) == [(first["id"], 4), (compilation["id"], 11)]
    assert await albums(song["id"], ordering="title") == [
        (compilation["id"], 11),
        (first["id"], 4),
    ]
    assert await albums(song["id"], page_size=1, page=2) == [(compilation["id"], 11)]
    assert await albums(alone["id"]) == []
    assert await albums(10_000) == []  # an unknown song is on no album: an empty page
    whole = (await client.get("/api/v1/albums", params={"song": song["id"]})).json()
    assert set(whole["results"][0]) == {*first, "track_number"}
    # Without `song`, the albums keep their documented shape.
    plain = (await client.get("/api/v1/albums")).json()["results"]
    assert all("track_number" not in item for item in plain)


@pytest.mark.parametrize("song", ["0", "-1", "abc", "2147483648"])
async def test_albums_of_a_song_refuse_a_bad_id(client: httpx.AsyncClient, song: str) -> None:
    response = await client.get("/api/v1/albums", params={"song": song})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "song"]
