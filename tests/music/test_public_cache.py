"""Music's public lists opt into the platform's short-lived response cache: anonymous GETs may be
answered from it, requests with a token (whose answers hold `liked_by_me`) never are."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bandstand.platform.settings import Settings
from tests.music.conftest import running_music
from tests.support.tokens import TokenFactory


@pytest.mark.parametrize("path", ["/api/v1/songs", "/songs", "/song", "/api/v1/albums"])
async def test_anonymous_lists_come_from_the_cache_signed_in_ones_never(
    make_settings: Callable[..., Settings],
    music_database_url: str,
    tokens: TokenFactory,
    path: str,
) -> None:
    settings = make_settings(databases={"music": music_database_url}, public_cache_seconds=60)
    async with running_music(settings, tokens) as music:
        first = await music.client.get(path)
        song = await music.add_song(1)
        await music.add_album(1)
        cached = await music.client.get(path)
        assert (first.headers["x-cache"], cached.headers["x-cache"]) == ("MISS", "HIT")
        assert cached.json() == first.json()

        signed_in = await music.client.get(path, headers=music.user)
        assert "x-cache" not in signed_in.headers
        assert signed_in.json() != first.json()  # the new song or album is there
        detail = await music.client.get(f"/api/v1/songs/{song['id']}", headers=music.user)
        assert detail.status_code == 200
        assert "x-cache" not in detail.headers
