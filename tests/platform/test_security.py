"""Local token verification against a JWKS, and the denylist."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bandstand.platform import security
from bandstand.platform.cache import Cache, MemoryCache
from bandstand.platform.errors import ServiceUnavailable, Unauthorized
from bandstand.platform.redis_cache import RedisCache
from bandstand.platform.security import Denylist, JWKSProvider, TokenVerifier
from bandstand.platform.settings import Settings
from tests.support.servers import free_port
from tests.support.waiting import next_second

ISSUER, AUDIENCE = "bandstand-identity", "bandstand"


def _jwk(key: Ed25519PrivateKey, kid: str) -> dict[str, str]:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig"}


class KeyServer:
    """A JWKS source that counts how often it is asked."""

    def __init__(self) -> None:
        self.keys: dict[str, Ed25519PrivateKey] = {"k1": Ed25519PrivateKey.generate()}
        self.fetches = 0
        self.down = False

    async def fetch(self) -> dict[str, Any]:
        self.fetches += 1
        if self.down:
            raise ConnectionError("identity unreachable")
        return {"keys": [_jwk(key, kid) for kid, key in self.keys.items()]}


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "sub": "7",
        "role": "user",
        "iat": now,
        "exp": now + 60,
        "jti": "token-1",
        "sid": "family-1",
        "iss": ISSUER,
        "aud": AUDIENCE,
    }
    claims.update(overrides)
    return claims


def _sign(key: Ed25519PrivateKey, kid: str, **overrides: Any) -> str:
    return jwt.encode(_claims(**overrides), key, algorithm="EdDSA", headers={"kid": kid})


@pytest.fixture
def server() -> KeyServer:
    return KeyServer()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def denylist(request: pytest.FixtureRequest) -> AsyncIterator[Denylist]:
    """The denylist on the in-memory cache and on a real Redis server."""
    if request.param == "memory":
        cache: Cache = MemoryCache()
    else:
        cache = RedisCache(request.getfixturevalue("redis_url"))
    yield Denylist(cache)
    await cache.close()


@pytest.fixture
def verifier(server: KeyServer, denylist: Denylist) -> TokenVerifier:
    provider = JWKSProvider(server.fetch, cache_seconds=300, min_refetch=0)
    return TokenVerifier(provider, denylist, issuer=ISSUER, audience=AUDIENCE)


async def test_valid_token_gives_the_principal(server: KeyServer, verifier: TokenVerifier) -> None:
    principal = await verifier.verify(_sign(server.keys["k1"], "k1"))
    assert (principal.id, principal.role, principal.token_id) == (7, "user", "token-1")
    assert principal.session_id == "family-1"
    assert principal.can_act_for(7)
    assert not principal.can_act_for(8)


async def test_keys_are_cached(server: KeyServer, verifier: TokenVerifier) -> None:
    token = _sign(server.keys["k1"], "k1")
    for _ in range(5):
        await verifier.verify(token)
    assert server.fetches == 1


async def test_unknown_kid_refetches_once_and_finds_a_rotated_key(
    server: KeyServer, verifier: TokenVerifier
) -> None:
    await verifier.verify(_sign(server.keys["k1"], "k1"))
    server.keys["k2"] = Ed25519PrivateKey.generate()
    await verifier.verify(_sign(server.keys["k2"], "k2"))
    assert server.fetches == 2


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": int(time.time()) - 10},
        {"aud": "somebody-else"},
        {"iss": "somebody-else"},
        {"role": "superuser"},
        {"sub": "not-a-number"},
    ],
)
async def test_bad_claims_are_401(
    server: KeyServer, verifier: TokenVerifier, overrides: dict[str, Any]
) -> None:
    with pytest.raises(Unauthorized):
        await verifier.verify(_sign(server.keys["k1"], "k1", **overrides))


async def test_missing_claim_is_401(server: KeyServer, verifier: TokenVerifier) -> None:
    claims = _claims()
    del claims["jti"]
    token = jwt.encode(claims, server.keys["k1"], algorithm="EdDSA", headers={"kid": "k1"})
    with pytest.raises(Unauthorized):
        await verifier.verify(token)


async def test_forged_tokens_are_401(server: KeyServer, verifier: TokenVerifier) -> None:
    unsigned = jwt.encode(_claims(), key=None, algorithm="none", headers={"kid": "k1"})
    other_key = _sign(Ed25519PrivateKey.generate(), "k1")
    header, payload, signature = _sign(server.keys["k1"], "k1").split(".")
    admin = base64.urlsafe_b64encode(
        jwt.utils.base64url_decode(payload).replace(b'"user"', b'"admin"')
    ).rstrip(b"=")
    tampered = f"{header}.{admin.decode()}.{signature}"
    hmac = jwt.encode(_claims(), "s" * 32, algorithm="HS256", headers={"kid": "k1"})
    for token in (unsigned, other_key, tampered, hmac, "not.a.jwt", ""):
        with pytest.raises(Unauthorized):
            await verifier.verify(token)


async def test_revoked_token_is_401(
    server: KeyServer, verifier: TokenVerifier, denylist: Denylist
) -> None:
    token = _sign(server.keys["k1"], "k1")
    await verifier.verify(token)
    await denylist.revoke("token-1", int(time.time()) + 60)
    with pytest.raises(Unauthorized, match="revoked"):
        await verifier.verify(token)


class DecodeCounter:
    """Counts the signature checks (`jwt.decode`) the verifier makes."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        real = jwt.decode

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(security.jwt, "decode", counted)


def _remembering(server: KeyServer, denylist: Denylist, **options: Any) -> TokenVerifier:
    provider = JWKSProvider(server.fetch, cache_seconds=300, min_refetch=0)
    return TokenVerifier(provider, denylist, issuer=ISSUER, audience=AUDIENCE, **options)


async def test_a_verified_token_is_not_checked_again_for_a_while(
    server: KeyServer, denylist: Denylist, monkeypatch: pytest.MonkeyPatch
) -> None:
    decodes = DecodeCounter(monkeypatch)
    verifier = _remembering(server, denylist, reverify_seconds=60)
    token = _sign(server.keys["k1"], "k1")
    principals = [await verifier.verify(token) for _ in range(5)]
    assert decodes.calls == 1
    assert {p.id for p in principals} == {7}


async def test_a_token_is_checked_again_after_reverify_seconds(
    server: KeyServer, denylist: Denylist, monkeypatch: pytest.MonkeyPatch
) -> None:
    decodes = DecodeCounter(monkeypatch)
    verifier = _remembering(server, denylist, reverify_seconds=30)
    token = _sign(server.keys["k1"], "k1")
    await verifier.verify(token)
    later = time.time() + 31
    monkeypatch.setattr(security.time, "time", lambda: later)
    await verifier.verify(token)
    assert decodes.calls == 2


async def test_a_remembered_token_is_checked_in_full_once_it_expires(
    server: KeyServer, denylist: Denylist, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past its `exp` a remembered token goes through the full check again, which refuses it
    (`test_bad_claims_are_401` shows the refusal of an expired token)."""
    decodes = DecodeCounter(monkeypatch)
    verifier = _remembering(server, denylist, reverify_seconds=600)
    now = int(time.time())
    token = _sign(server.keys["k1"], "k1", exp=now + 5)
    await verifier.verify(token)
    monkeypatch.setattr(security.time, "time", lambda: now + 5.0)
    await verifier.verify(token)  # the real clock: not expired yet for PyJWT
    assert decodes.calls == 2


async def test_only_the_latest_tokens_are_remembered(
    server: KeyServer, denylist: Denylist, monkeypatch: pytest.MonkeyPatch
) -> None:
    decodes = DecodeCounter(monkeypatch)
    verifier = _remembering(server, denylist, remembered=2)
    first, second, third = (_sign(server.keys["k1"], "k1", jti=f"t{i}") for i in range(3))
    for token in (first, second, third, third, second):
        await verifier.verify(token)
    assert decodes.calls == 3
    await verifier.verify(first)  # forgotten: checked again
    assert decodes.calls == 4


async def test_identity_down_without_cached_keys_is_503(
    server: KeyServer, verifier: TokenVerifier
) -> None:
    server.down = True
    with pytest.raises(ServiceUnavailable):
        await verifier.verify(_sign(server.keys["k1"], "k1"))


async def test_identity_down_with_cached_keys_keeps_verifying(server: KeyServer) -> None:
    provider = JWKSProvider(server.fetch, cache_seconds=0, min_refetch=0)
    verifier = TokenVerifier(provider, Denylist(MemoryCache()), issuer=ISSUER, audience=AUDIENCE)
    token = _sign(server.keys["k1"], "k1")
    await verifier.verify(token)
    server.down = True
    assert (await verifier.verify(token)).id == 7


async def test_revoking_a_user_ends_tokens_issued_before(
    server: KeyServer, verifier: TokenVerifier, denylist: Denylist
) -> None:
    now = int(time.time())
    older = _sign(server.keys["k1"], "k1", iat=now - 5, jti="older")
    other_user = _sign(server.keys["k1"], "k1", iat=now - 5, jti="other", sub="8")
    await denylist.revoke_user(7)
    await next_second()  # `iat` has whole seconds
    newer = _sign(server.keys["k1"], "k1", jti="newer")
    with pytest.raises(Unauthorized, match="revoked"):
        await verifier.verify(older)
    assert (await verifier.verify(other_user)).id == 8
    assert (await verifier.verify(newer)).id == 7


async def test_revoking_a_user_is_exact_to_the_millisecond(
    server: KeyServer, verifier: TokenVerifier, denylist: Denylist
) -> None:
    issued = time.time()
    before = _sign(
        server.keys["k1"], "k1", iat=int(issued), iat_ms=int(issued * 1000), jti="before"
    )
    await asyncio.sleep(0.01)
    await denylist.revoke_user(7)
    await asyncio.sleep(0.01)
    later = time.time()
    after = _sign(server.keys["k1"], "k1", iat=int(later), iat_ms=int(later * 1000), jti="after")
    with pytest.raises(Unauthorized, match="revoked"):
        await verifier.verify(before)
    assert (await verifier.verify(after)).id == 7


async def test_a_millisecond_claim_far_from_iat_is_ignored(
    server: KeyServer, verifier: TokenVerifier, denylist: Denylist
) -> None:
    now = int(time.time())
    await denylist.revoke_user(7)
    lying = _sign(server.keys["k1"], "k1", iat=now - 5, iat_ms=(now + 60) * 1000, jti="lying")
    with pytest.raises(Unauthorized, match="revoked"):
        await verifier.verify(lying)


async def test_revocations_are_kept_only_while_the_token_lives(denylist: Denylist) -> None:
    await denylist.revoke("live", int(time.time()) + 60)
    await denylist.revoke("expired", int(time.time()) - 1)  # nothing left to refuse
    assert await denylist.is_revoked("live", 7, time.time())
    assert not await denylist.is_revoked("expired", 7, time.time())
    assert not await denylist.is_revoked("other", 8, time.time())


async def test_revoking_a_session_ends_every_token_issued_in_it(
    server: KeyServer, verifier: TokenVerifier, denylist: Denylist
) -> None:
    first = _sign(server.keys["k1"], "k1", jti="first", sid="session-a")
    rotated = _sign(server.keys["k1"], "k1", jti="rotated", sid="session-a")
    other_session = _sign(server.keys["k1"], "k1", jti="other", sid="session-b")
    assert (await verifier.verify(rotated)).session_id == "session-a"

    await denylist.revoke_session("session-a")

    for token in (first, rotated):
        with pytest.raises(Unauthorized, match="revoked"):
            await verifier.verify(token)
    assert (await verifier.verify(other_session)).session_id == "session-b"


async def test_the_keys_are_fetched_from_the_next_identity_replica_when_one_is_down() -> None:
    async def jwks(_request: web.Request) -> web.Response:
        return web.json_response({"keys": [{"kid": "k1"}]})

    app = web.Application()
    app.add_routes([web.get("/.well-known/jwks.json", jwks)])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    closed = f"http://127.0.0.1:{free_port()}"
    try:
        settings = Settings(
            _env_file=None, service_urls={"identity": [closed, f"http://{host}:{port}"]}
        )  # type: ignore[call-arg]
        assert settings.resolved_jwks_url() == f"{closed}/.well-known/jwks.json"
        fetch = security.jwks_from_url(settings.jwks_urls())
        assert await fetch() == {"keys": [{"kid": "k1"}]}
        with pytest.raises(aiohttp.ClientConnectorError):
            await security.jwks_from_url(settings.jwks_urls()[:1])()
    finally:
        await runner.cleanup()
