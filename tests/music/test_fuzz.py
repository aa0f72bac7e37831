"""Arbitrary bodies and query strings never make a music route answer 500: every write either
succeeds or is a 4xx that stores nothing, and every list query is answered or refused."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.music.conftest import MusicHarness, album_body, picture_body, song_body

FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["", "\x00", "\ud800", "2026-02-29", "02/29/2024", "0001-01-01", " "])
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=5,
)
FIELDS = [
    *song_body(),
    *picture_body(),
    "lyrics",
    "release_date",
    "song_id",
    "track_number",
    "id",
    "like_count",
]
# (method, path, a valid body the fuzzed fields are laid over)
WRITES = [
    ("POST", "/api/v1/songs", song_body(5)),
    ("PATCH", "/api/v1/songs/{song}", {}),
    ("POST", "/api/v1/albums", album_body(5)),
    ("POST", "/api/v1/albums/{album}/songs", {"song_id": "{song}", "track_number": 2}),
    ("PUT", "/api/v1/pictures/{picture}", {}),
    ("POST", "/songs", song_body(5)),
    ("POST", "/song", {"title": "x"}),
    ("PUT", "/song/{song}", {}),
    ("POST", "/picture", picture_body(5)),
    ("PUT", "/picture/{picture}", {}),
    ("PUT", "/picture/99", picture_body(5)),
]
bodies = st.dictionaries(st.sampled_from(FIELDS), values, max_size=4)


async def _seed(music: MusicHarness) -> dict[str, int]:
    await music.clear()
    (song_id,) = await music.insert_songs([{}])
    album = await music.add_album()
    picture = await music.add_picture()
    return {"song": song_id, "album": album["id"], "picture": picture["id"]}


def _fill(value: Any, ids: dict[str, int]) -> Any:
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    return value


@FUZZ
@given(write=st.sampled_from(WRITES), changes=bodies, whole=st.booleans())
async def test_writes_never_fail_with_500(
    music: MusicHarness,
    write: tuple[str, str, dict[str, Any]],
    changes: dict[str, Any],
    whole: bool,
) -> None:
    ids = await _seed(music)
    method, path, valid = write
    body = {**({k: _fill(v, ids) for k, v in valid.items()} if whole else {}), **changes}
    before = await music.snapshot()

    # Encoded here: a lone surrogate goes as its JSON escape, as a client could send it.
    response = await music.client.request(
        method,
        path.format(**ids),
        content=json.dumps(body).encode(),
        headers={**music.admin, "Content-Type": "application/json"},
    )

    assert response.status_code < 500, (method, path, body, response.text)
    if response.status_code >= 400:
        assert await music.snapshot() == before, (method, path, body)


query_values = st.text(max_size=8) | st.integers(-(2**40), 2**40).map(str)
queries = st.dictionaries(
    st.sampled_from(
        ["search", "genre", "artist", "album", "ordering", "page", "page_size", "limit"]
    ),
    query_values | st.sampled_from(["likes", "-title", "release_date", "1", "100"]),
    max_size=4,
)
LISTS = ["/api/v1/songs", "/api/v1/albums", "/api/v1/pictures", "/songs", "/song", "/picture"]


@FUZZ
@given(path=st.sampled_from([*LISTS, "/api/v1/me/likes", "/albums/{album}/songs"]), query=queries)
async def test_list_queries_never_fail_with_500(
    music: MusicHarness, path: str, query: dict[str, str]
) -> None:
    ids = await _seed(music)
    response = await music.client.get(path.format(**ids), params=query, headers=music.user)
    assert response.status_code < 500, (path, query, response.text)
    assert response.status_code in (200, 400, 404, 422), (path, query, response.text)
