"""Property tests of the song list against a model in Python: for any small catalogue and any
filters, ordering and page size, walking the pages yields every matching song exactly once, in
the requested order, and `count` is the number of matches. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bandstand.music.models import AlbumSong
from bandstand.music.search import search_terms, search_text
from tests.music.conftest import MusicHarness

LETTERS = "abAÉéeç%_"
GENRES = ["Rock", "Jazz", "rock"]
ARTISTS = ["Ana", "Ána", "Bo"]

words = st.text(alphabet=LETTERS, min_size=1, max_size=5)
songs = st.lists(
    st.fixed_dictionaries(
        {
            "title": st.builds(" ".join, st.lists(words, min_size=1, max_size=2)),
            "artist": st.sampled_from(ARTISTS),
            "genre": st.sampled_from(GENRES),
            "release_date": st.none() | st.dates(date(2000, 1, 1), date(2000, 1, 5)),
            "like_count": st.integers(0, 3),
            "on_album": st.booleans(),
        }
    ),
    max_size=12,
)
queries = st.fixed_dictionaries(
    {},
    optional={
        "search": st.text(alphabet=LETTERS + " ", max_size=4),
        "genre": st.sampled_from(GENRES),
        "artist": st.sampled_from(ARTISTS),
        "ordering": st.sampled_from(
            ["title", "-title", "release_date", "-release_date", "likes", "-likes"]
        ),
        "album": st.just(True),
    },
)
SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _expected(rows: list[dict[str, Any]], query: dict[str, Any]) -> list[int]:
    terms = search_terms(query.get("search", ""))
    matching = [
        row
        for row in rows
        if all(term in search_text(row["title"], row["artist"]) for term in terms)
        and query.get("genre", row["genre"]) == row["genre"]
        and query.get("artist", row["artist"]) == row["artist"]
        and (row["on_album"] or "album" not in query)
    ]
    ordering = query.get("ordering", "id")
    descending = ordering.startswith("-")
    field = ordering.lstrip("-")

    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        if field == "release_date":  # NULL sorts before every date
            value = row["release_date"]
            return (value is not None, value or date.min, row["id"])
        column = {"likes": "like_count"}.get(field, field)
        return (row[column], row["id"])

    return [row["id"] for row in sorted(matching, key=key, reverse=descending)]


async def _walk(client: httpx.AsyncClient, params: dict[str, Any]) -> tuple[list[int], int]:
    response = await client.get("/api/v1/songs", params=params)
    assert response.status_code == 200, response.text
    page = response.json()
    count = page["count"]
    seen = [song["id"] for song in page["results"]]
    while page["next"]:
        assert page["count"] == count
        page = (await client.get(page["next"])).json()
        seen.extend(song["id"] for song in page["results"])
    return seen, count


@SETTINGS
@given(catalogue=songs, query=queries, page_size=st.integers(1, 5))
async def test_pages_hold_every_match_once_in_order(
    music: MusicHarness,
    catalogue: list[dict[str, Any]],
    query: dict[str, Any],
    page_size: int,
) -> None:
    await music.clear()
    album = await music.add_album()
    columns = [{k: v for k, v in row.items() if k != "on_album"} for row in catalogue]
    ids = await music.insert_songs(columns)
    async with music.session() as session:
        session.add_all(
            AlbumSong(album_id=album["id"], song_id=song_id, track_number=number + 1)
            for number, (song_id, row) in enumerate(zip(ids, catalogue, strict=True))
            if row["on_album"]
        )
    rows = [{**row, "id": song_id} for song_id, row in zip(ids, catalogue, strict=True)]
    params = {**query, "page_size": page_size}
    if "album" in query:
        params["album"] = album["id"]

    seen, count = await _walk(music.client, params)

    expected = _expected(rows, query)
    assert seen == expected
    assert count == len(expected)
    assert len(set(seen)) == len(seen)


operations = st.lists(
    st.tuples(st.sampled_from(["PUT", "DELETE"]), st.integers(1, 3), st.integers(0, 2)),
    max_size=15,
)


@SETTINGS
@given(steps=operations)
async def test_like_counts_follow_any_sequence_of_likes(
    music: MusicHarness, steps: list[tuple[str, int, int]]
) -> None:
    await music.clear()
    song_ids = await music.insert_songs([{}, {}, {}])
    model: set[tuple[int, int]] = set()
    for method, user_id, index in steps:
        song_id = song_ids[index]
        response = await music.client.request(
            method, f"/api/v1/songs/{song_id}/like", headers=music.headers(user_id)
        )
        assert response.status_code == (200 if method == "PUT" else 204)
        (model.add if method == "PUT" else model.discard)((user_id, song_id))
        if method == "PUT":
            expected = sum(1 for _, liked in model if liked == song_id)
            assert response.json()["like_count"] == expected

    counts = await music.like_counts()
    for song_id in song_ids:
        expected = sum(1 for _, liked in model if liked == song_id)
        assert counts[song_id] == (expected, expected)
