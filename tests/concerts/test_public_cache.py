"""The public concert list opts into the platform's short-lived response cache: anonymous GETs
may be answered from it; requests with a token (whose answers hold `my_status`) never are."""

from __future__ import annotations

from collections.abc import Callable

from bandstand.platform.settings import Settings
from tests.concerts.conftest import running_concerts
from tests.support.tokens import TokenFactory


async def test_anonymous_lists_come_from_the_cache_signed_in_ones_never(
    make_settings: Callable[..., Settings],
    concerts_database_url: str,
    tokens: TokenFactory,
) -> None:
    settings = make_settings(databases={"concerts": concerts_database_url}, public_cache_seconds=60)
    async with running_concerts(settings, tokens) as concerts:
        first = await concerts.client.get("/api/v1/concerts")
        cached = await concerts.client.get("/api/v1/concerts/")
        assert (first.headers["x-cache"], cached.headers["x-cache"]) == ("MISS", "HIT")
        assert cached.json() == first.json()

        concert_id = await concerts.add_concert()
        after_write = await concerts.client.get("/api/v1/concerts")
        assert after_write.headers["x-cache"] == "MISS"
        assert [item["id"] for item in after_write.json()["results"]] == [concert_id]

        signed_in = await concerts.client.get("/api/v1/concerts", headers=concerts.alice)
        assert "x-cache" not in signed_in.headers
        assert [item["id"] for item in signed_in.json()["results"]] == [concert_id]
        filtered = await concerts.client.get("/api/v1/concerts?city=glasgow")
        assert filtered.headers["x-cache"] == "MISS"
        assert filtered.json()["count"] == 1
        detail = await concerts.client.get(f"/api/v1/concerts/{concert_id}")
        assert "x-cache" not in detail.headers
