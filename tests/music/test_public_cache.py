"""Music's public lists opt into the platform's short-lived response cache: anonymous GETs may be
answered from it, requests with a token (whose answers hold `liked_by_me`) never are, and a
write is visible to the next read."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bandstand.platform.settings import Settings
from tests.music.conftest import running_music
from tests.support.tokens import TokenFactory


@pytest.mark.parametrize(
    "path", ["/api/v1/songs", "/songs", "/song", "/api/v1/albums", "/api/v1/songs/facets"]
)
async def test_anonymous_lists_come_from_the_cache_signed_in_ones_never(
    make_settings: Callable[..., Settings],
    music_database_url: str,
    tokens: TokenFactory,
    path: str,
) -> None:
    settings = make_settings(databases={"music": music_database_url}, public_cache_seconds=60)
    async with running_music(settings, tokens) as music:
        first = await music.client.get(path)
        cached = await music.client.get(path)
        assert (first.headers["x-cache"], cached.headers["x-cache"]) == ("MISS", "HIT")
        assert cached.json() == first.json()

        song = await music.add_song(1)
        await music.add_album(1)
        after_write = await music.client.get(path)
        assert after_write.headers["x-cache"] == "MISS"
        assert after_write.json() != first.json()  # the new song or album is there
        assert (await music.client.get(path)).headers["x-cache"] == "HIT"

        signed_in = await music.client.get(path, headers=music.user)
        assert "x-cache" not in signed_in.headers
        detail = await music.client.get(f"/api/v1/songs/{song['id']}", headers=music.user)
        assert detail.status_code == 200
        assert "x-cache" not in detail.headers


async def test_a_write_in_one_process_is_seen_by_the_next_read_in_another(
    make_settings: Callable[..., Settings],
    music_database_url: str,
    redis_url: str,
    tokens: TokenFactory,
) -> None:
    """Two music processes sharing the database and Redis: a song added through one is in the
    next anonymous list the other answers, which it had cached."""
    settings = make_settings(
        databases={"music": music_database_url}, public_cache_seconds=60, cache_url=redis_url
    )
    async with (
        running_music(settings, tokens) as writer,
        running_music(settings, tokens) as reader,
    ):
        assert (await reader.client.get("/api/v1/songs")).headers["x-cache"] == "MISS"
        assert (await reader.client.get("/api/v1/songs")).headers["x-cache"] == "HIT"
        song = await writer.add_song(7)
        after_write = await reader.client.get("/api/v1/songs")
        assert after_write.headers["x-cache"] == "MISS"
        assert [item["id"] for item in after_write.json()["results"]] == [song["id"]]
