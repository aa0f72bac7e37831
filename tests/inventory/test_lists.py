"""The lists at work: a constant number of SQL statements whatever the page size (the genres
of a page are one query, never one per movie), and anonymous reads of the public lists served
from the platform's short-lived response cache, requests with a token never."""

from __future__ import annotations

from collections.abc import Callable

from bandstand.platform.settings import Settings
from tests.inventory.conftest import Inventory, running_inventory
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
    # The canonical page: count, page, genres; the inherited list: movies, genres.
    assert list(counts.values()) == [3, 3, 2, 2]


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
