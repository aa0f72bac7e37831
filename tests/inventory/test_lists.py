"""The lists at work: a constant number of SQL statements whatever the page size (a page's
genres are read with the page, never one query per movie), a listed movie written exactly as
the movie read alone, and anonymous reads of the public lists served from the platform's
short-lived response cache, requests with a token never."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bandstand.platform import pagination
from bandstand.platform.json_rows import JsonRead, read_json
from bandstand.platform.settings import Settings
from tests.inventory.conftest import Inventory, running_inventory
from tests.support.bodies import assert_lists_exactly
from tests.support.statements import recorded_statements
from tests.support.tokens import TokenFactory


async def test_a_page_costs_the_same_statements_whatever_its_size(inventory: Inventory) -> None:
    await inventory.insert_movies(
        [{"title": f"Reel {n}", "genres": ["Drama", "Comedy", "Horror"]} for n in range(60)]
    )
    counts = {}
    for url in ("/api/v1/movies?page_size=1", "/api/v1/movies?page_size=50&genre=drama"):
        with recorded_statements(inventory.database) as statements:
            response = await inventory.client.get(url)
        assert response.status_code == 200
        counts[url] = len([s for s in statements if s.lstrip().upper().startswith("SELECT")])
    for limit in (1, 60):
        with recorded_statements(inventory.database) as statements:
            response = await inventory.client.get(f"/api/movies?limit={limit}")
        assert len(response.json()) == limit
        assert all(len(movie["genres"]) == 3 for movie in response.json())
        counts[f"limit={limit}"] = len(
            [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        )
    # The canonical page: count, and the page with its genres; the inherited list: one.
    assert list(counts.values()) == [2, 2, 1, 1]


async def test_a_listed_movie_is_written_exactly_as_the_movie_alone(
    inventory: Inventory, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[JsonRead | None] = []

    async def recorded(*args: Any, **kwargs: Any) -> JsonRead | None:
        read = await read_json(*args, **kwargs)
        written.append(read)
        return read

    monkeypatch.setattr(pagination, "read_json", recorded)
    await inventory.add_movie(1, genres=["Zydeco", "Ação", "Drama"], duration_minutes=95)
    await inventory.add_movie(2, title='Ünïcode ✓ "quoted"', genres=[], release_year=None)
    await inventory.add_movie(3, description="Line one.\nLine two\ttabbed.", release_year=2001)
    await inventory.add_movie(4, genres=['Quote " and \\ slash', "🎸 Guitar", "/slash/"])
    ids = [
        movie["id"] for movie in (await inventory.client.get("/api/v1/movies")).json()["results"]
    ]
    alone = {}
    for movie_id in ids:
        response = await inventory.client.get(f"/api/v1/movies/{movie_id}")
        assert response.status_code == 200
        alone[movie_id] = response.content
    for query in ("", "?ordering=-title", "?ordering=release_year", "?title=movie&ordering=-id"):
        for headers in ({}, inventory.user):
            page = await inventory.client.get(f"/api/v1/movies{query}", headers=headers)
            order = [movie["id"] for movie in page.json()["results"]]
            assert sorted(order) == sorted(ids) or query.startswith("?title")
            assert_lists_exactly(page.content, [alone[movie_id] for movie_id in order])
    legacy = await inventory.client.get("/api/movies")
    assert_lists_exactly(legacy.content, [alone[movie_id] for movie_id in sorted(ids)])
    first = await inventory.client.get("/api/v1/movies?page_size=1")
    assert first.content.startswith(b'{"count":4,"next":"http://')
    assert b',"previous":null,"results":[' in first.content
    assert written, "the canonical pages were read by read_json"
    assert all(read is not None for read in written), "every page was written by the database"


async def test_anonymous_lists_come_from_the_cache_signed_in_ones_never(
    make_settings: Callable[..., Settings], inventory_database_url: str, tokens: TokenFactory
) -> None:
    settings = make_settings(
        databases={"inventory": inventory_database_url}, public_cache_seconds=60
    )
    async with running_inventory(settings, tokens) as inventory:
        for path in ("/api/v1/movies", "/api/movies"):
            first = await inventory.client.get(path)
            cached = await inventory.client.get(f"{path}/")
            assert (first.headers["x-cache"], cached.headers["x-cache"]) == ("MISS", "HIT")
            assert cached.json() == first.json()

            movie = await inventory.add_movie(len(path))
            after_write = await inventory.client.get(path)
            assert after_write.headers["x-cache"] == "MISS"
            assert after_write.json() != first.json()

            signed_in = await inventory.client.get(path, headers=inventory.user)
            assert "x-cache" not in signed_in.headers
            body = signed_in.json()
            listed = body["results"] if isinstance(body, dict) else body
            assert [item["id"] for item in listed] == [movie["id"]]
            filtered = await inventory.client.get(path, params={"title": movie["title"]})
            assert filtered.headers["x-cache"] == "MISS"
            detail = await inventory.client.get(f"{path}/{movie['id']}")
            assert "x-cache" not in detail.headers
            await inventory.clear()
