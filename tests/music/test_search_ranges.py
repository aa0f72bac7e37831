"""A song search whose page spans more than a range of ids: on PostgreSQL it is asked of the
songs' trigrams by range of ids (`platform.ranged_trigrams`), and pages, by number and by
`next` cursors, signed in or not, as the list filtered by the search would, before and after
writes; on SQLite the search's own index answers it as before."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bandstand.platform import pagination
from tests.music.conftest import MusicHarness

SONGS = 3000
EVERY = 15
"""One song in 15 is a match: a page of 100 spans 1,500 ids."""


def title(number: int) -> str:
    return f"Corazón {number}" if number % EVERY == 0 else f"Song {number}"


@pytest.fixture
def ranged(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each page read on PostgreSQL was asked of the ranges."""
    asked: list[bool] = []
    own = pagination.ranged_page

    def spy(*args: Any) -> Any:
        found = own(*args)
        asked.append(found is not None)
        return found

    monkeypatch.setattr(pagination, "ranged_page", spy)
    return asked


async def _forward(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> list[int]:
    seen: list[int] = []
    next_url: str | None = url
    while next_url:
        page = (await client.get(next_url, headers=headers)).json()
        seen.extend(song["id"] for song in page["results"])
        next_url = page["next"]
    return seen


async def test_a_search_pages_as_the_list_it_filters(
    music: MusicHarness, client: httpx.AsyncClient, ranged: list[bool]
) -> None:
    ids = await music.insert_songs([{"title": title(n), "artist": "Band"} for n in range(SONGS)])
    expected = [song_id for n, song_id in enumerate(ids) if n % EVERY == 0]
    listing = "/api/v1/songs?search=corazon&page_size=100"
    for headers in ({}, music.user):
        first = (await client.get(listing, headers=headers)).json()
        assert first["count"] == len(expected)
        by_number = [
            song["id"]
            for number in (1, 2)
            for song in (await client.get(f"{listing}&page={number}", headers=headers)).json()[
                "results"
            ]
        ]
        assert by_number == expected
        assert await _forward(client, listing, headers) == expected
    dialect = music.database.engine.dialect.name
    assert any(ranged) == (dialect == "postgresql")

    # Songs written since are found: new matches past the ids read before, and a match gone.
    more = await music.insert_songs([{"title": "Mi corazon", "artist": "Band"}] * 3)
    await client.delete(f"/api/v1/songs/{expected[1]}", headers=music.admin)
    expected = [expected[0], *expected[2:], *more]
    assert await _forward(client, listing, music.user) == expected
