"""Arbitrary bodies and query strings never make an inventory route answer 500: every write
either succeeds or is a 4xx that stores nothing, and every list query is answered or refused."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.inventory.conftest import Inventory, movie_body

FUZZ = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["", "\x00", "\ud800", " ", "\u0301", "ß" * 30, "ﬃ" * 50, "1999"])
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=5,
)
FIELDS = [*movie_body(), "id", "created_at", "title_key"]
# (method, path, a valid body the fuzzed fields are laid over)
WRITES = [
    ("POST", "/api/v1/movies", movie_body(5)),
    ("PUT", "/api/v1/movies/{movie}", movie_body(6)),
    ("PATCH", "/api/v1/movies/{movie}", {}),
    ("POST", "/api/movies", movie_body(7)),
    ("PUT", "/api/movies/{movie}", {}),
]
bodies = st.dictionaries(st.sampled_from(FIELDS), values, max_size=4)


@FUZZ
@given(write=st.sampled_from(WRITES), changes=bodies, whole=st.booleans())
async def test_writes_never_fail_with_500(
    inventory: Inventory,
    write: tuple[str, str, dict[str, Any]],
    changes: dict[str, Any],
    whole: bool,
) -> None:
    await inventory.clear()
    (movie_id,) = await inventory.insert_movies([{"genres": ["Drama", "Comedy"]}])
    method, path, valid = write
    body = {**(valid if whole else {}), **changes}
    before = await inventory.snapshot()

    # Encoded here: a lone surrogate goes as its JSON escape, as a client could send it.
    response = await inventory.client.request(
        method,
        path.format(movie=movie_id),
        content=json.dumps(body).encode(),
        headers={**inventory.admin, "Content-Type": "application/json"},
    )

    assert response.status_code < 500, (method, path, body, response.text)
    if response.status_code >= 400:
        assert await inventory.snapshot() == before, (method, path, body)
    else:
        stored = (await inventory.client.get(f"/api/v1/movies/{response.json()['id']}")).json()
        assert stored == response.json()


query_values = st.text(max_size=8) | st.integers(-(2**40), 2**40).map(str)
queries = st.dictionaries(
    st.sampled_from(["title", "genre", "year", "ordering", "page", "page_size", "limit"]),
    query_values | st.sampled_from(["-title", "release_year", "1", "100", "2001", "drama"]),
    max_size=4,
)


@FUZZ
@given(path=st.sampled_from(["/api/v1/movies", "/api/movies"]), query=queries)
async def test_list_queries_never_fail_with_500(
    inventory: Inventory, path: str, query: dict[str, str]
) -> None:
    response = await inventory.client.get(path, params=query)
    assert response.status_code in (200, 400, 404, 422), (path, query, response.text)
