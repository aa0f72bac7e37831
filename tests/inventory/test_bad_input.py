"""Bad input on every write answers a 4xx naming the field, and stores nothing: 422 on the
canonical API (FastAPI's list of field errors), 400 on the inherited routes (the same list
under `detail`, its text under `error`)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.inventory.conftest import Inventory, movie_body, names_field

# (field, the value that is refused); laid over a valid body.
BAD_FIELDS: list[tuple[str, Any]] = [
    ("title", "x" * 201),
    ("title", 42),
    ("title", ["a list"]),
    ("title", "nul \x00 inside"),
    ("title", "\u0301"),  # nothing searchable once accents are dropped
    ("description", "d" * 10_001),
    ("description", 3.5),
    ("release_year", 1869),
    ("release_year", 2101),
    ("release_year", "1999"),
    ("release_year", True),
    ("release_year", 2000.5),
    ("genres", "Drama"),
    ("genres", [""]),
    ("genres", ["g" * 51]),
    ("genres", [f"Genre {n}" for n in range(11)]),
    ("genres", [7]),
    ("genres", ["bad \x00"]),
    ("duration_minutes", 0),
    ("duration_minutes", -5),
    ("duration_minutes", 100_001),
    ("duration_minutes", "90"),
]
CANONICAL_WRITES = [
    ("POST", "/api/v1/movies"),
    ("PUT", "/api/v1/movies/{id}"),
    ("PATCH", "/api/v1/movies/{id}"),
]
LEGACY_WRITES = [("POST", "/api/movies"), ("PUT", "/api/movies/{id}")]


async def _refuses_every_bad_field(
    inventory: Inventory, method: str, path: str, status: int
) -> None:
    movie = await inventory.add_movie(1)
    url = path.format(id=movie["id"])
    # Creating and replacing take a whole body; changing takes the field alone.
    whole = method == "POST" or (method == "PUT" and path.startswith("/api/v1/"))
    base = movie_body(3) if whole else {}
    before = await inventory.snapshot()
    for field, value in BAD_FIELDS:
        body = {**base, field: value}
        response = await inventory.client.request(method, url, json=body, headers=inventory.admin)
        assert response.status_code == status, (method, path, body, response.text)
        assert names_field(response.json(), field), response.text
        if status == 400:
            assert field in response.json()["error"]
    assert await inventory.snapshot() == before


@pytest.mark.parametrize(("method", "path"), CANONICAL_WRITES)
async def test_canonical_writes_refuse_bad_fields(
    inventory: Inventory, method: str, path: str
) -> None:
    await _refuses_every_bad_field(inventory, method, path, 422)


@pytest.mark.parametrize(("method", "path"), LEGACY_WRITES)
async def test_inherited_writes_refuse_bad_fields(
    inventory: Inventory, method: str, path: str
) -> None:
    await _refuses_every_bad_field(inventory, method, path, 400)


async def test_canonical_create_refuses_missing_and_unknown_fields(inventory: Inventory) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"description": "x"}, "title"),
        ({"title": "x"}, "description"),
        ({"title": "   ", "description": "x"}, "title"),
        ({"title": "x", "description": ""}, "description"),
        ({**movie_body(), "id": 5}, "id"),
        ({**movie_body(), "created_at": "2020-01-01T00:00:00Z"}, "created_at"),
        ({**movie_body(), "title_key": "x"}, "title_key"),
    ]
    for body, field in cases:
        response = await inventory.client.post("/api/v1/movies", json=body, headers=inventory.admin)
        assert response.status_code == 422, body
        assert names_field(response.json(), field), response.text
    assert await inventory.count() == 0


async def test_changes_refuse_null_for_required_fields(inventory: Inventory) -> None:
    movie = await inventory.add_movie(1)
    before = await inventory.snapshot()
    for field in ("title", "description", "genres"):
        for path, status in (
            (f"/api/v1/movies/{movie['id']}", 422),
            (f"/api/movies/{movie['id']}", 400),
        ):
            method = "PATCH" if status == 422 else "PUT"
            response = await inventory.client.request(
                method, path, json={field: None}, headers=inventory.admin
            )
            assert response.status_code == status, (path, field, response.text)
            assert names_field(response.json(), field), response.text
    assert await inventory.snapshot() == before


LIST_QUERIES = [
    ("title=" + "t" * 201, "title"),
    ("title=%00", "title"),
    ("genre=" + "g" * 51, "genre"),
    ("genre=a%00b", "genre"),
    ("year=abc", "year"),
    ("year=0", "year"),
    ("ordering=rating", "ordering"),
    ("page=0", "page"),
    ("page_size=101", "page_size"),
]


async def test_list_queries_refuse_bad_parameters(inventory: Inventory) -> None:
    for query, field in LIST_QUERIES:
        response = await inventory.client.get(f"/api/v1/movies?{query}")
        assert response.status_code == 422, response.text
        assert names_field(response.json(), field), response.text
        if field == "title":
            legacy = await inventory.client.get(f"/api/movies?{query}")
            assert legacy.status_code == 400, legacy.text
            assert field in legacy.json()["error"]


async def test_a_body_that_is_not_json_is_refused(inventory: Inventory) -> None:
    response = await inventory.client.post(
        "/api/v1/movies",
        content=b"{not json",
        headers={**inventory.admin, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert await inventory.count() == 0
