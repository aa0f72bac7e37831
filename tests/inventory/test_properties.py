"""Properties of the list against a reference model: for any catalogue and any filters, walking
every page yields each matching movie exactly once, and nothing else, in the order asked for."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bandstand.platform.text_search import normalize
from tests.inventory.conftest import Inventory

PROPERTIES = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
WORDS = ["Café", "CAFE", "cafè", "Noir", "noír", "Jazz", "JÄZZ", "Straße", "strasse", "Edge"]
GENRES = ["Drama", "drama", "Comédie", "Comedie", "Sci-Fi", "Horror"]
YEARS = [None, 1999, 2001, 2024]

movies = st.lists(
    st.fixed_dictionaries(
        {
            "title": st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join),
            "genres": st.lists(st.sampled_from(GENRES), max_size=2, unique_by=normalize),
            "release_year": st.sampled_from(YEARS),
        }
    ),
    max_size=12,
)
title_queries = st.none() | st.sampled_from(["caf", "CAFÉ noir", "jazz", "strasse", "af dg", " "])
filters = st.fixed_dictionaries(
    {
        "title": title_queries,
        "genre": st.none() | st.sampled_from(["DRAMA", "comedie", "sci-fi", "western"]),
        "year": st.none() | st.sampled_from([1999, 2024, 1950]),
        "ordering": st.sampled_from(
            ["id", "-id", "title", "-title", "release_year", "-release_year"]
        ),
    }
)


def _matches(movie: dict[str, Any], query: dict[str, Any]) -> bool:
    if query["title"] is not None:
        key = normalize(movie["title"])
        if not all(word in key for word in normalize(query["title"]).split()):
            return False
    genres = {normalize(genre) for genre in movie["genres"]}
    if query["genre"] is not None and normalize(query["genre"]) not in genres:
        return False
    return query["year"] is None or movie["release_year"] == query["year"]


def _expected_order(rows: list[dict[str, Any]], ordering: str) -> list[int] | None:
    """The ids in the order asked for; None where the engine's collation decides."""
    descending = ordering.startswith("-")
    field = ordering.lstrip("-")
    if field == "id":
        return sorted((row["id"] for row in rows), reverse=descending)
    if field == "release_year":
        # Unknown years first ascending (last descending), ties by id.
        def key(row: dict[str, Any]) -> tuple[int, int, int]:
            year = row["release_year"]
            return (0 if year is None else 1, year or 0, row["id"])

        return [row["id"] for row in sorted(rows, key=key, reverse=descending)]
    return None


@PROPERTIES
@given(catalogue=movies, query=filters, page_size=st.integers(min_value=1, max_value=5))
async def test_every_match_exactly_once_across_pages(
    inventory: Inventory, catalogue: list[dict[str, Any]], query: dict[str, Any], page_size: int
) -> None:
    await inventory.clear()
    ids = await inventory.insert_movies(catalogue)
    stored = [{**movie, "id": movie_id} for movie, movie_id in zip(catalogue, ids, strict=True)]
    expected = [movie for movie in stored if _matches(movie, query)]
    params = {key: value for key, value in query.items() if value is not None}

    seen: list[dict[str, Any]] = []
    url: str | None = "/api/v1/movies"
    request_params: dict[str, Any] | None = {**params, "page_size": page_size}
    while url is not None:
        response = await inventory.client.get(url, params=request_params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["count"] == len(expected)
        assert len(page["results"]) <= page_size
        seen.extend(page["results"])
        url, request_params = page["next"], None

    assert len(seen) == len(expected)
    assert sorted(movie["id"] for movie in seen) == sorted(movie["id"] for movie in expected)
    order = _expected_order(expected, query["ordering"])
    if order is not None:
        assert [movie["id"] for movie in seen] == order
    by_id = {movie["id"]: movie for movie in expected}
    for movie in seen:
        assert movie["genres"] == by_id[movie["id"]]["genres"]
