"""A song search in the list's default order (by id) pages as the whole list filtered by the
search would: by number, by `next` cursors and back by `previous` ones, signed in or not. On
SQLite such a page is read in the order of the search's index (`text_index.driven_by_index`),
whatever the term: frequent, rare, of several words, or with one too short for the index."""

from __future__ import annotations

import httpx
import pytest

from bandstand.music.search import search_terms, search_text
from tests.music.conftest import MusicHarness

TITLES = [
    "Corazón de melón",
    "Plain",
    "Mi corazon",
    "Corazones",
    "Other",
    "De corazón",
    "Melon",
    "corazon DE piedra",
] * 4


async def _walk(
    client: httpx.AsyncClient, url: str, link: str, headers: dict[str, str]
) -> list[int]:
    seen: list[int] = []
    next_url: str | None = url
    while next_url:
        page = (await client.get(next_url, headers=headers)).json()
        ids = [song["id"] for song in page["results"]]
        seen.extend(ids if link == "next" else reversed(ids))
        next_url = page[link]
    return seen


@pytest.mark.parametrize("query", ["corazon", "corazon de", "melon de", "zon", "piedra", "nada"])
async def test_a_search_pages_as_the_list_it_filters(
    music: MusicHarness, client: httpx.AsyncClient, query: str
) -> None:
    ids = await music.insert_songs(
        [{"title": title, "artist": f"Artist {n % 3}"} for n, title in enumerate(TITLES)]
    )
    terms = search_terms(query)
    expected = [
        song_id
        for song_id, (n, title) in zip(ids, enumerate(TITLES), strict=True)
        if all(term in search_text(title, f"Artist {n % 3}") for term in terms)
    ]
    for headers in ({}, music.user):
        listing = f"/api/v1/songs?search={query.replace(' ', '+')}&page_size=3"
        first = (await client.get(listing, headers=headers)).json()
        assert first["count"] == len(expected)
        by_number = [
            song["id"]
            for number in range(1, max(1, -(-len(expected) // 3)) + 1)
            for song in (await client.get(f"{listing}&page={number}", headers=headers)).json()[
                "results"
            ]
        ]
        assert by_number == expected
        forward = await _walk(client, listing, "next", headers)
        assert forward == expected
        if len(expected) > 3:
            last_page = -(-len(expected) // 3)
            last = (await client.get(f"{listing}&page={last_page}", headers=headers)).json()
            backward = await _walk(client, last["previous"], "previous", headers)
            assert backward == list(reversed(expected[: (last_page - 1) * 3]))
