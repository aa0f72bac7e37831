"""Replicas of identity share their revocations and login failures through the cache backend."""

from __future__ import annotations

import time
from collections.abc import Callable

import jwt
import pytest

from bandstand.platform.settings import Settings
from tests.identity.conftest import USER_PASSWORD, running_identity


async def test_the_denylist_entry_lives_as_long_as_the_token(
    make_settings: Callable[..., Settings], identity_database_url: str
) -> None:
    settings = make_settings(databases={"identity": identity_database_url})
    async with running_identity(settings) as identity:
        tokens = await identity.tokens(identity.member)
        response = await identity.client.post("/api/v1/logout", headers=tokens.headers)
        assert response.status_code == 200

        claims = jwt.decode(tokens.access_token, options={"verify_signature": False})
        store = identity.app.state.runtime.security_store
        ttl = await store.ttl(f"revoked-jti:{claims['jti']}")
        assert ttl is not None
        assert claims["exp"] - time.time() - 5 <= ttl <= claims["exp"] - time.time() + 1


@pytest.mark.redis
async def test_replicas_share_revocations_and_login_failures_through_redis(
    make_settings: Callable[..., Settings], identity_database_url: str, redis_url: str
) -> None:
    settings = make_settings(databases={"identity": identity_database_url}, cache_url=redis_url)
    async with (
        running_identity(settings) as first,
        running_identity(settings, seed=False) as second,
    ):
        tokens = await first.tokens(first.member)
        assert (await second.client.get("/api/v1/profile", headers=tokens.headers)).is_success

        await first.client.post("/api/v1/logout", headers=tokens.headers)
        revoked = await second.client.get("/api/v1/profile", headers=tokens.headers)
        assert revoked.status_code == 401
        assert revoked.json()["detail"] == "Token revoked"

        wrong = {"username": "member", "password": "wrong-password"}
        for replica in (first, second, first, second, first):
            assert (await replica.client.post("/api/v1/login", json=wrong)).status_code == 401
        right = {"username": "member", "password": USER_PASSWORD}
        limited = await second.client.post("/api/v1/login", json=right)
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) <= 60
