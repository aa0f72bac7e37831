"""Who may call what: every music route against an anonymous caller, a user, an instructor and
an admin. Lists (and the concert app's reads) are public, details need a user, writes need an
admin. Anonymous callers get 401 with `WWW-Authenticate: Bearer`; known callers without the
role get 403 `{"detail": "Insufficient permissions"}`. Every route also answers with and without
its trailing slash."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.music.conftest import MusicHarness, album_body, picture_body, song_body


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # {song}, {album}, {picture}: seeded rows; {loose}: a song on no album
    allowed: str  # "public", "user" or "admin"
    body: dict[str, Any] | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


TRACK = {"song_id": "{loose}", "track_number": 2}
ROUTES = [
    Route("GET", "/api/v1/songs", "public"),
    Route("GET", "/api/v1/albums", "public"),
    Route("GET", "/api/v1/pictures", "public"),
    Route("GET", "/songs", "public"),
    Route("GET", "/albums", "public"),
    Route("GET", "/song", "public"),
    Route("GET", "/song/{song}", "public"),
    Route("GET", "/picture", "public"),
    Route("GET", "/picture/{picture}", "public"),
    Route("GET", "/api/v1/songs/{song}", "user"),
    Route("GET", "/api/v1/albums/{album}", "user"),
    Route("GET", "/api/v1/albums/{album}/songs", "user"),
    Route("GET", "/api/v1/albums/{album}/songs/{song}", "user"),
    Route("GET", "/api/v1/pictures/{picture}", "user"),
    Route("GET", "/api/v1/me/likes", "user"),
    Route("PUT", "/api/v1/songs/{song}/like", "user"),
    Route("DELETE", "/api/v1/songs/{song}/like", "user"),
    Route("GET", "/songs/{song}", "user"),
    Route("GET", "/albums/{album}", "user"),
    Route("GET", "/albums/{album}/songs", "user"),
    Route("POST", "/api/v1/songs", "admin", song_body(9)),
    Route("PUT", "/api/v1/songs/{song}", "admin", {"title": "New"}),
    Route("PATCH", "/api/v1/songs/{song}", "admin", {"title": "New"}),
    Route("DELETE", "/api/v1/songs/{song}", "admin"),
    Route("POST", "/api/v1/albums", "admin", album_body(9)),
    Route("PUT", "/api/v1/albums/{album}", "admin", {"title": "New"}),
    Route("PATCH", "/api/v1/albums/{album}", "admin", {"title": "New"}),
    Route("DELETE", "/api/v1/albums/{album}", "admin"),
    Route("POST", "/api/v1/albums/{album}/songs", "admin", TRACK),
    Route("DELETE", "/api/v1/albums/{album}/songs/{song}", "admin"),
    Route("POST", "/api/v1/pictures", "admin", picture_body(9)),
    Route("PUT", "/api/v1/pictures/{picture}", "admin", {"event_city": "Porto"}),
    Route("PATCH", "/api/v1/pictures/{picture}", "admin", {"event_city": "Porto"}),
    Route("DELETE", "/api/v1/pictures/{picture}", "admin"),
    Route("POST", "/songs", "admin", song_body(9)),
    Route("PUT", "/songs/{song}", "admin", {"title": "New"}),
    Route("DELETE", "/songs/{song}", "admin"),
    Route("POST", "/albums", "admin", album_body(9)),
    Route("PUT", "/albums/{album}", "admin", {"title": "New"}),
    Route("DELETE", "/albums/{album}", "admin"),
    Route("POST", "/song", "admin", {"title": "Legacy", "lyrics": "la"}),
    Route("PUT", "/song/{song}", "admin", {"lyrics": "la la"}),
    Route("DELETE", "/song/{song}", "admin"),
    Route("POST", "/picture", "admin", picture_body(9)),
    Route("PUT", "/picture/{picture}", "admin", {"event_city": "Porto"}),
    Route("DELETE", "/picture/{picture}", "admin"),
]


async def _seed(music: MusicHarness) -> dict[str, int]:
    song = await music.add_song(1)
    loose = await music.add_song(2)
    album = await music.add_album(1)
    await music.add_track(album["id"], song["id"], 1)
    picture = await music.add_picture(1)
    return {
        "song": song["id"],
        "loose": loose["id"],
        "album": album["id"],
        "picture": picture["id"],
    }


def _fill(value: Any, ids: dict[str, int]) -> Any:
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    return value


async def _check(music: MusicHarness, client: httpx.AsyncClient, route: Route) -> None:
    ids = await _seed(music)
    path = route.path.format(**ids)
    body = _fill(route.body, ids)
    instructor = music.headers(30, role="instructor")

    async def call(headers: dict[str, str], trailing_slash: bool) -> httpx.Response:
        url = path + "/" if trailing_slash else path
        return await client.request(route.method, url, json=body, headers=headers)

    if route.allowed != "public":
        anonymous = await call({}, trailing_slash=True)
        assert anonymous.status_code == 401, (str(route), anonymous.text)
        assert anonymous.headers["www-authenticate"] == "Bearer"
        assert anonymous.json()["detail"] == "Not authenticated"
    for headers, trailing_slash in ((music.user, False), (instructor, True)):
        response = await call(headers, trailing_slash)
        if route.allowed == "admin":
            assert response.status_code == 403, (str(route), response.text)
            assert response.json()["detail"] == "Insufficient permissions"
        else:
            assert response.status_code in (200, 204), (str(route), response.text)
    response = await call(music.admin, trailing_slash=False)
    assert response.status_code in (200, 201, 204), (str(route), response.text)


async def test_permission_matrix(music: MusicHarness, client: httpx.AsyncClient) -> None:
    # One app for every route (starting one per route costs more than the checks): each route
    # gets freshly seeded rows, so that deleting ones leave the next unaffected.
    for route in ROUTES:
        await _check(music, client, route)


@pytest.mark.parametrize("path", ["/api/v1/songs", "/songs"])
async def test_a_bad_token_is_401_on_lists_that_read_it(
    client: httpx.AsyncClient, path: str
) -> None:
    for token in ("garbage", "a.b.c"):
        response = await client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"] == "Bearer"


async def test_refused_writes_store_nothing(music: MusicHarness, client: httpx.AsyncClient) -> None:
    ids = await _seed(music)
    before = await music.snapshot()
    outbox = await music.outbox()
    for route in ROUTES:
        if route.allowed != "admin":
            continue
        path = route.path.format(**ids)
        await client.request(route.method, path, json=_fill(route.body, ids), headers=music.user)
    assert await music.snapshot() == before
    assert await music.outbox() == outbox
