"""The canonical movie API: reading, filtering, ordering and changing the catalogue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.inventory.conftest import Inventory, movie_body


async def _titles(inventory: Inventory, query: str) -> list[str]:
    response = await inventory.client.get(f"/api/v1/movies?page_size=100&{query}")
    assert response.status_code == 200, response.text
    return [movie["title"] for movie in response.json()["results"]]


async def test_create_answers_201_with_location_and_the_stored_movie(inventory: Inventory) -> None:
    body = movie_body(
        3, title="  Orbit of Strings ", genres=["Science Fiction", "drama", "Drama", "DRAMA"]
    )
    response = await inventory.client.post("/api/v1/movies", json=body, headers=inventory.admin)

    assert response.status_code == 201, response.text
    movie = response.json()
    assert response.headers["location"] == f"/api/v1/movies/{movie['id']}"
    assert movie["title"] == "Orbit of Strings"
    # One genre once whatever its case; the first spelling and the order sent are kept.
    assert movie["genres"] == ["Science Fiction", "drama"]
    assert set(movie) == {
        "id",
        "title",
        "description",
        "release_year",
        "genres",
        "duration_minutes",
        "created_at",
        "updated_at",
    }
    created = datetime.fromisoformat(movie["created_at"])
    assert created.isoformat().endswith("+00:00")
    fetched = await inventory.client.get(response.headers["location"])
    assert fetched.status_code == 200
    assert fetched.json() == movie


async def test_optional_fields_may_be_left_out(inventory: Inventory) -> None:
    body = {"title": "Metronome", "description": "A heist in time."}
    response = await inventory.client.post("/api/v1/movies", json=body, headers=inventory.admin)
    assert response.status_code == 201, response.text
    movie = response.json()
    assert (movie["release_year"], movie["genres"], movie["duration_minutes"]) == (None, [], None)


async def test_a_missing_movie_is_404(inventory: Inventory) -> None:
    for movie_id in (1, 2_147_483_647):
        response = await inventory.client.get(f"/api/v1/movies/{movie_id}")
        assert response.status_code == 404
        assert response.json() == {"detail": f"Movie with id {movie_id} not found"}
    for bad in ("0", "-1", "2147483648", "abc"):
        assert (await inventory.client.get(f"/api/v1/movies/{bad}")).status_code == 422


TITLE_QUERIES: list[tuple[str, list[str]]] = [
    ("title=cafe", ["Café at the Edge of Winter", "CAFÉ NOIR"]),
    ("title=CAFÉ", ["Café at the Edge of Winter", "CAFÉ NOIR"]),
    ("title=Senora", ["Señora Lumen"]),
    ("title=garcon jazz", ["Garçon de Jazz"]),
    ("title=jazz garçon", ["Garçon de Jazz"]),  # every word, in any order
    ("title=edg", ["Café at the Edge of Winter"]),  # part of a word
    ("title=  winter   edge ", ["Café at the Edge of Winter"]),
    ("title=KRAKOW", ["Kites Over Kraków"]),
    ("title=100%25", ["100% Vinyl"]),  # LIKE's wildcards are plain characters
    ("title=_", []),
    ("title=cafe lumen", []),
]


async def test_the_title_filter_ignores_case_and_accents(inventory: Inventory) -> None:
    titles = [
        "Café at the Edge of Winter",
        "Señora Lumen",
        "Garçon de Jazz",
        "Kites Over Kraków",
        "CAFÉ NOIR",
        "100% Vinyl",
    ]
    await inventory.insert_movies([{"title": title} for title in titles])
    for query, expected in TITLE_QUERIES:
        assert await _titles(inventory, query) == expected, query
    assert await _titles(inventory, "title=") == titles


async def test_genre_and_year_filters(inventory: Inventory) -> None:
    await inventory.insert_movies(
        [
            {"title": "A", "genres": ["Drama", "Science Fiction"], "release_year": 2019},
            {"title": "B", "genres": ["Comedy"], "release_year": 2019},
            {"title": "C", "genres": ["science fiction"], "release_year": 2021},
            {"title": "D", "genres": [], "release_year": None},
            {"title": "E", "genres": ["Ciência"], "release_year": 2021},
        ]
    )
    assert await _titles(inventory, "genre=Science%20Fiction") == ["A", "C"]
    assert await _titles(inventory, "genre=SCIENCE FICTION") == ["A", "C"]
    assert await _titles(inventory, "genre=science") == []  # a genre is matched whole
    assert await _titles(inventory, "genre=ciencia") == ["E"]
    assert await _titles(inventory, "year=2019") == ["A", "B"]
    assert await _titles(inventory, "year=2019&genre=drama") == ["A"]
    assert await _titles(inventory, "year=1950") == []
    assert await _titles(inventory, "genre=") == ["A", "B", "C", "D", "E"]
    page = (await inventory.client.get("/api/v1/movies?genre=comedy")).json()
    assert page["count"] == 1
    assert page["results"][0]["genres"] == ["Comedy"]


async def test_orderings_are_total_and_consistent(inventory: Inventory) -> None:
    await inventory.insert_movies(
        [
            {"title": "beta", "release_year": 2001},
            {"title": "Alpha", "release_year": None},
            {"title": "Édith", "release_year": 1999},
            {"title": "alpha", "release_year": 2001},
        ]
    )
    assert await _titles(inventory, "ordering=title") == ["Alpha", "alpha", "beta", "Édith"]
    assert await _titles(inventory, "ordering=-title") == ["Édith", "beta", "alpha", "Alpha"]
    assert await _titles(inventory, "ordering=release_year") == ["Alpha", "Édith", "beta", "alpha"]
    assert await _titles(inventory, "ordering=-release_year") == [
        "alpha",
        "beta",
        "Édith",
        "Alpha",
    ]
    assert await _titles(inventory, "ordering=-id") == ["alpha", "Édith", "Alpha", "beta"]
    assert await _titles(inventory, "") == ["beta", "Alpha", "Édith", "alpha"]


async def test_pages_link_to_each_other_and_keep_the_filters(inventory: Inventory) -> None:
    await inventory.insert_movies([{"title": f"Loop {n}"} for n in range(5)])
    first = (await inventory.client.get("/api/v1/movies?title=loop&page_size=2")).json()
    assert (first["count"], first["previous"]) == (5, None)
    assert "title=loop" in first["next"]
    # `next` carries a cursor (keeping the filters); page=2 reads the same page by number.
    assert "cursor=" in first["next"]
    second = (await inventory.client.get(first["next"])).json()
    by_number = await inventory.client.get("/api/v1/movies?title=loop&page_size=2&page=2")
    assert second["results"] == by_number.json()["results"]
    assert [movie["title"] for movie in second["results"]] == ["Loop 2", "Loop 3"]
    last = (await inventory.client.get("/api/v1/movies?title=loop&page_size=2&page=3")).json()
    assert [movie["title"] for movie in last["results"]] == ["Loop 4"]
    assert last["next"] is None
    past = await inventory.client.get("/api/v1/movies?page_size=2&page=4")
    assert past.status_code == 404


async def test_put_replaces_the_whole_movie(inventory: Inventory) -> None:
    movie = await inventory.add_movie(1, genres=["Drama", "Mystery"])
    body = {"title": "Signal Over Saltmarsh", "description": "A hum across the estuary."}
    response = await inventory.client.put(
        f"/api/v1/movies/{movie['id']}", json=body, headers=inventory.admin
    )
    assert response.status_code == 200, response.text
    replaced = response.json()
    assert replaced["title"] == "Signal Over Saltmarsh"
    # Left out of a replacement: back to their defaults.
    assert (replaced["genres"], replaced["release_year"], replaced["duration_minutes"]) == (
        [],
        None,
        None,
    )
    assert replaced["created_at"] == movie["created_at"]
    assert replaced["updated_at"] > movie["updated_at"]
    assert await _titles(inventory, "title=saltmarsh") == ["Signal Over Saltmarsh"]


async def test_patch_changes_only_the_fields_sent(inventory: Inventory) -> None:
    movie = await inventory.add_movie(1, genres=["Drama"])
    url = f"/api/v1/movies/{movie['id']}"
    response = await inventory.client.patch(
        url, json={"genres": ["Comedy", "Drama"], "release_year": None}, headers=inventory.admin
    )
    assert response.status_code == 200, response.text
    changed: dict[str, Any] = response.json()
    assert changed["genres"] == ["Comedy", "Drama"]
    assert changed["release_year"] is None
    assert changed["title"] == movie["title"]
    assert changed["duration_minutes"] == movie["duration_minutes"]
    assert await _titles(inventory, "genre=comedy") == [movie["title"]]
    cleared = await inventory.client.patch(url, json={"genres": []}, headers=inventory.admin)
    assert cleared.json()["genres"] == []
    assert await _titles(inventory, "genre=drama") == []


async def test_delete_answers_204_and_the_movie_is_gone(inventory: Inventory) -> None:
    movie = await inventory.add_movie(1, genres=["Drama"])
    kept = await inventory.add_movie(2)
    url = f"/api/v1/movies/{movie['id']}"
    response = await inventory.client.delete(url, headers=inventory.admin)
    assert response.status_code == 204
    assert response.content == b""
    assert (await inventory.client.get(url)).status_code == 404
    assert (await inventory.client.delete(url, headers=inventory.admin)).status_code == 404
    assert await _titles(inventory, "") == [kept["title"]]
    assert await _titles(inventory, "genre=drama") == [kept["title"]]


async def test_trailing_slashes_are_optional(inventory: Inventory) -> None:
    movie = await inventory.add_movie(1)
    assert (await inventory.client.get("/api/v1/movies/")).status_code == 200
    assert (await inventory.client.get(f"/api/v1/movies/{movie['id']}/")).status_code == 200
    assert (await inventory.client.get("/api/movies/")).status_code == 200
