"""Bad input on every write route: malformed JSON, a body that is not an object, a missing
field, a wrong type, an oversized string, NUL and lone surrogates (which PostgreSQL cannot
store), numbers out of range, and fields a client may not send. Each is refused with a 4xx
naming the field (under the original's key on inherited routes), and nothing is stored."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from bandstand.music.schemas import INT_MAX, LYRICS_MAX
from tests.music.conftest import MusicHarness, album_body, names_field, picture_body, song_body

SONG_STRINGS = {
    "title": 100,
    "artist": 100,
    "genre": 50,
    "file_url": 255,
    "description": 500,
    "cover_image_url": 255,
    "lyrics": LYRICS_MAX,
}
ALBUM_STRINGS = {"title": 100, "artist": 100, "genre": 50, "description": 500}
PICTURE_STRINGS = {"pic_url": 1000, "event_country": 100, "event_state": 100, "event_city": 100}
SERVER_SET = ("id", "like_count", "liked_by_me", "search_text", "created_at", "updated_at")


@dataclass(frozen=True)
class WriteRoute:
    method: str
    path: str
    status: int  # what a validation error answers on this route
    valid: dict[str, Any]
    required: tuple[str, ...]
    strings: dict[str, int]
    integers: dict[str, tuple[int, int]] = field(default_factory=dict)
    dates: tuple[str, ...] = ()
    forbidden: tuple[str, ...] = SERVER_SET
    legacy_key: str | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


DURATION = {"duration": (0, INT_MAX)}
ROUTES = [
    WriteRoute(
        "POST", "/api/v1/songs", 422, song_body(9),
        ("title", "artist", "genre", "file_url", "duration"), SONG_STRINGS, DURATION,
        ("release_date",),
    ),
    WriteRoute(
        "PUT", "/api/v1/songs/{song}", 422, {"title": "x"},
        (), SONG_STRINGS, DURATION, ("release_date",),
    ),
    WriteRoute(
        "POST", "/api/v1/albums", 422, album_body(9), ("title", "artist"), ALBUM_STRINGS
    ),
    WriteRoute("PATCH", "/api/v1/albums/{album}", 422, {"title": "x"}, (), ALBUM_STRINGS),
    WriteRoute(
        "POST", "/api/v1/albums/{album}/songs", 422, {"song_id": "{loose}", "track_number": 2},
        ("song_id", "track_number"), {},
        {"song_id": (1, INT_MAX), "track_number": (1, 9999)},
        forbidden=("album_id", "created_at"),
    ),
    WriteRoute(
        "POST", "/api/v1/pictures", 422, picture_body(9), ("pic_url",), PICTURE_STRINGS,
        dates=("event_date",),
    ),
    WriteRoute(
        "PUT", "/api/v1/pictures/{picture}", 422, {"event_city": "x"}, (), PICTURE_STRINGS,
        dates=("event_date",),
    ),
    WriteRoute(
        "POST", "/songs", 422, song_body(9),
        ("title", "artist", "genre", "file_url", "duration"), SONG_STRINGS, DURATION,
    ),
    WriteRoute("PUT", "/songs/{song}", 422, {"title": "x"}, (), SONG_STRINGS, DURATION),
    WriteRoute("POST", "/albums", 422, album_body(9), ("title", "artist"), ALBUM_STRINGS),
    WriteRoute("PUT", "/albums/{album}", 422, {"title": "x"}, (), ALBUM_STRINGS),
    WriteRoute(
        "POST", "/song", 400, {"title": "x", "lyrics": "y"}, ("title",),
        {"title": 100, "lyrics": LYRICS_MAX}, {"id": (1, INT_MAX)},
        forbidden=(), legacy_key="message",
    ),
    WriteRoute(
        "PUT", "/song/{song}", 400, {"lyrics": "y"}, (), {"title": 100, "lyrics": LYRICS_MAX},
        forbidden=(), legacy_key="message",
    ),
    WriteRoute(
        "POST", "/picture", 400, picture_body(9), ("pic_url",), PICTURE_STRINGS,
        {"id": (1, INT_MAX)}, ("event_date",), forbidden=(), legacy_key="Message",
    ),
    WriteRoute(
        "PUT", "/picture/{picture}", 400, {"event_city": "x"}, (), PICTURE_STRINGS,
        dates=("event_date",), forbidden=(), legacy_key="Message",
    ),
]  # fmt: skip
# Integers that take no boolean (pydantic's lax mode reads `true` as 1).
DOCUMENTED_STRICT = {"duration"}
# The concert app's bodies ignore fields they do not know (test_compat_concert_app.py).
NOT_NULLABLE = {
    "/api/v1/songs/{song}": ("title", "artist", "genre", "file_url", "duration"),
    "/songs/{song}": ("title", "duration"),
    "/api/v1/albums/{album}": ("title", "artist"),
    "/albums/{album}": ("artist",),
    "/api/v1/pictures/{picture}": ("pic_url",),
    "/song/{song}": ("title",),
    "/picture/{picture}": ("pic_url",),
}


def _cases(route: WriteRoute) -> list[tuple[str, Any, str]]:
    """(what, body, the field the answer must name) for every kind of bad input."""
    valid = route.valid
    cases: list[tuple[str, Any, str]] = []
    for name in route.required:
        cases.append((f"missing {name}", {k: v for k, v in valid.items() if k != name}, name))
    for name, limit in route.strings.items():
        cases.append((f"long {name}", {**valid, name: "x" * (limit + 1)}, name))
        cases.append((f"NUL in {name}", {**valid, name: "a\x00b"}, name))
        cases.append((f"surrogate in {name}", {**valid, name: "\ud800"}, name))
        cases.append((f"number as {name}", {**valid, name: 12}, name))
    for name, (low, high) in route.integers.items():
        cases.append((f"low {name}", {**valid, name: low - 1}, name))
        cases.append((f"high {name}", {**valid, name: high + 1}, name))
        cases.append((f"text as {name}", {**valid, name: "seven"}, name))
    for name in route.integers.keys() & DOCUMENTED_STRICT:
        cases.append((f"boolean as {name}", {**valid, name: True}, name))
    for name in route.dates:
        cases.append((f"bad {name}", {**valid, name: "2026-02-30"}, name))
        # The document says a string: neither a number nor a numeral is a date.
        cases.append((f"number as {name}", {**valid, name: 0}, name))
        cases.append((f"numeral as {name}", {**valid, name: "0"}, name))
    for name in route.forbidden:
        cases.append((f"forbidden {name}", {**valid, name: 1}, name))
    for name in NOT_NULLABLE.get(route.path, ()):
        cases.append((f"null {name}", {**valid, name: None}, name))
    return cases


def _encode(body: Any) -> bytes:
    # ensure_ascii keeps a lone surrogate as the escape `\ud800`, as a client would send it.
    return json.dumps(body).encode()


@pytest.mark.parametrize("route", ROUTES, ids=str)
async def test_bad_input_is_refused_naming_the_field(
    music: MusicHarness, client: httpx.AsyncClient, route: WriteRoute
) -> None:
    song = await music.add_song(1)
    loose = await music.add_song(2)
    album = await music.add_album(1)
    await music.add_track(album["id"], song["id"], 1)
    picture = await music.add_picture(1)
    ids = {"song": song["id"], "loose": loose["id"], "album": album["id"], "picture": picture["id"]}
    path = route.path.format(**ids)
    valid = {k: ids[v[1:-1]] if v == "{loose}" else v for k, v in route.valid.items()}
    route = WriteRoute(**{**route.__dict__, "valid": valid})
    before = await music.snapshot()
    outbox = await music.outbox()
    headers = {**music.admin, "Content-Type": "application/json"}

    for what, body, name in _cases(route):
        response = await client.request(route.method, path, content=_encode(body), headers=headers)
        assert response.status_code == route.status, (what, response.text)
        answer = response.json()
        assert names_field(answer, name), (what, answer)
        if route.legacy_key:
            assert name in answer[route.legacy_key], (what, answer)
    for what, raw in [("malformed", b'{"title": '), ("a list", b"[]"), ("a string", b'"x"')]:
        response = await client.request(route.method, path, content=raw, headers=headers)
        assert response.status_code == route.status, (what, response.text)

    assert await music.snapshot() == before
    assert await music.outbox() == outbox
    accepted = await client.request(route.method, path, json=valid, headers=music.admin)
    assert accepted.status_code in (200, 201), accepted.text
