"""Access tokens: forged and stale tokens are refused, the JWKS verifies real ones, and the
signing key is created once in the data dir and reused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import stat
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from bandstand.identity.tokens import KEY_FILE_NAME, load_or_create_key
from bandstand.platform.settings import Settings
from tests.identity.conftest import IdentityHarness, bearer, running_identity

JWKS = "/.well-known/jwks.json"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(part: dict[str, Any]) -> str:
    return _b64(json.dumps(part, separators=(",", ":")).encode())


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{_segment(header)}.{_segment(claims)}"


def _claims(identity: IdentityHarness, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "sub": str(identity.member.id),
        "role": "user",
        "iat": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
        "sid": str(uuid.uuid4()),
        "iss": identity.settings.jwt_issuer,
        "aud": identity.settings.jwt_audience,
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def _kid(identity: IdentityHarness) -> str:
    kid: str = identity.app.state.keys.kid
    return kid


def _real(identity: IdentityHarness, **overrides: Any) -> str:
    """Signed with identity's own key: only the claims are wrong."""
    token: str = identity.app.state.keys.sign(_claims(identity, **overrides))
    return token


def _public_x(identity: IdentityHarness) -> str:
    x: str = identity.app.state.keys.jwks()["keys"][0]["x"]
    return x


def _public_pem(identity: IdentityHarness) -> bytes:
    raw = base64.urlsafe_b64decode(_public_x(identity) + "==")
    public = Ed25519PublicKey.from_public_bytes(raw)
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def alg_none(identity: IdentityHarness) -> str:
    header = {"alg": "none", "typ": "JWT", "kid": _kid(identity)}
    return _unsigned(header, _claims(identity, role="admin")) + "."


def alg_none_uppercase(identity: IdentityHarness) -> str:
    header = {"alg": "NONE", "typ": "JWT", "kid": _kid(identity)}
    return _unsigned(header, _claims(identity, role="admin")) + "."


def _hs256(identity: IdentityHarness, secret: bytes) -> str:
    signing_input = _unsigned(
        {"alg": "HS256", "typ": "JWT", "kid": _kid(identity)}, _claims(identity, role="admin")
    )
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def hs256_with_public_pem(identity: IdentityHarness) -> str:
    return _hs256(identity, _public_pem(identity))


def hs256_with_public_jwk_x(identity: IdentityHarness) -> str:
    return _hs256(identity, _public_x(identity).encode())


def other_key_same_kid(identity: IdentityHarness) -> str:
    return jwt.encode(
        _claims(identity, role="admin"),
        Ed25519PrivateKey.generate(),
        algorithm="EdDSA",
        headers={"kid": _kid(identity)},
    )


def other_key_unknown_kid(identity: IdentityHarness) -> str:
    return jwt.encode(
        _claims(identity, role="admin"),
        Ed25519PrivateKey.generate(),
        algorithm="EdDSA",
        headers={"kid": "attacker-key"},
    )


def no_kid(identity: IdentityHarness) -> str:
    key = load_or_create_key(Path(identity.settings.data_dir) / KEY_FILE_NAME)
    return jwt.encode(_claims(identity), key, algorithm="EdDSA")


def expired(identity: IdentityHarness) -> str:
    now = int(time.time())
    return _real(identity, iat=now - 1000, exp=now - 100)


def wrong_audience(identity: IdentityHarness) -> str:
    return _real(identity, aud="someone-else")


def wrong_issuer(identity: IdentityHarness) -> str:
    return _real(identity, iss="https://evil.example")


def missing_jti(identity: IdentityHarness) -> str:
    return _real(identity, jti=None)


def missing_exp(identity: IdentityHarness) -> str:
    return _real(identity, exp=None)


def non_numeric_subject(identity: IdentityHarness) -> str:
    return _real(identity, sub="member")


def unknown_role(identity: IdentityHarness) -> str:
    return _real(identity, role="superuser")


def tampered_role(identity: IdentityHarness) -> str:
    header, payload, signature = _real(identity).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "admin"
    forged = _b64(json.dumps(claims, separators=(",", ":")).encode())
    return f"{header}.{forged}.{signature}"


def garbage(identity: IdentityHarness) -> str:
    return "not.a.jwt"


ATTACKS: list[Callable[[IdentityHarness], str]] = [
    alg_none,
    alg_none_uppercase,
    hs256_with_public_pem,
    hs256_with_public_jwk_x,
    other_key_same_kid,
    other_key_unknown_kid,
    no_kid,
    expired,
    wrong_audience,
    wrong_issuer,
    missing_jti,
    missing_exp,
    non_numeric_subject,
    unknown_role,
    tampered_role,
    garbage,
]


@pytest.mark.parametrize("attack", ATTACKS, ids=[attack.__name__ for attack in ATTACKS])
async def test_forged_and_stale_tokens_are_401(
    identity: IdentityHarness,
    client: httpx.AsyncClient,
    attack: Callable[[IdentityHarness], str],
) -> None:
    token = attack(identity)
    for method, path in [
        ("GET", "/api/v1/profile"),
        ("GET", "/api/v1/users"),
        ("GET", "/users"),
        ("DELETE", f"/api/v1/users/{identity.admin.id}"),
    ]:
        response = await client.request(method, path, headers=bearer(token))
        assert response.status_code == 401, (path, response.text)
        assert response.headers["www-authenticate"] == "Bearer"
        assert isinstance(response.json()["detail"], str)
    assert await identity.user_count() == 2


async def test_a_real_token_with_the_right_claims_is_accepted(
    identity: IdentityHarness, client: httpx.AsyncClient
) -> None:
    """The control case of the attacks above: the same construction, nothing wrong."""
    response = await client.get("/api/v1/profile", headers=bearer(_real(identity)))
    assert response.status_code == 200


@pytest.mark.parametrize("authorization", ["Basic bWVtYmVyOnNlY3JldA==", "Bearer", "Bearer  "])
async def test_other_schemes_and_empty_tokens_are_401(
    client: httpx.AsyncClient, authorization: str
) -> None:
    response = await client.get("/api/v1/profile", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("path", [JWKS, JWKS + "/"])
async def test_jwks_publishes_the_public_key(
    identity: IdentityHarness, client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)

    assert response.status_code == 200
    assert "max-age" in response.headers["cache-control"]
    (key,) = response.json()["keys"]
    assert key["kty"] == "OKP"
    assert key["crv"] == "Ed25519"
    assert key["alg"] == "EdDSA"
    assert key["use"] == "sig"
    assert key["kid"] == _kid(identity)
    assert len(base64.urlsafe_b64decode(key["x"] + "=")) == 32
    assert "d" not in key  # never the private part


async def test_a_login_token_verifies_against_the_jwks_with_pyjwt(
    identity: IdentityHarness, client: httpx.AsyncClient
) -> None:
    tokens = await identity.login("member", "member-Passw0rd!")
    keys = jwt.PyJWKSet.from_dict((await client.get(JWKS)).json())
    header = jwt.get_unverified_header(tokens.access_token)
    assert header["alg"] == "EdDSA"

    claims = jwt.decode(
        tokens.access_token,
        key=keys[header["kid"]],
        algorithms=["EdDSA"],
        audience="bandstand",
        issuer="bandstand-identity",
    )

    assert claims["sub"] == str(identity.member.id)
    assert claims["role"] == "user"
    assert claims["exp"] - claims["iat"] == 900
    assert abs(claims["iat"] - time.time()) < 60
    assert set(claims) >= {"sub", "role", "exp", "iat", "jti", "iss", "aud"}
    assert len(claims["jti"]) >= 16


async def test_the_access_token_lifetime_is_a_setting(
    make_settings: Callable[..., Settings], identity_database_url: str
) -> None:
    settings = make_settings(
        databases={"identity": identity_database_url}, access_token_ttl_seconds=60
    )
    async with running_identity(settings) as identity:
        body = (
            await identity.client.post(
                "/api/v1/login", json={"username": "member", "password": "member-Passw0rd!"}
            )
        ).json()
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert (body["expires_in"], claims["exp"] - claims["iat"]) == (60, 60)


async def test_the_signing_key_is_created_in_the_data_dir_once_and_reused(
    identity_settings: Settings,
) -> None:
    key_file = Path(identity_settings.data_dir) / KEY_FILE_NAME
    assert not key_file.exists()

    async with running_identity(identity_settings) as first:
        assert key_file.exists()
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        jwks = (await first.client.get(JWKS)).json()
        tokens = await first.tokens(first.member)
        member = first.member
    pem = key_file.read_bytes()

    async with running_identity(identity_settings, seed=False) as second:
        assert key_file.read_bytes() == pem
        assert (await second.client.get(JWKS)).json() == jwks
        profile = await second.client.get("/api/v1/profile", headers=tokens.headers)
        assert profile.status_code == 200
        assert profile.json()["user"]["id"] == member.id
    assert sorted(path.name for path in key_file.parent.glob("*ed25519*")) == [KEY_FILE_NAME]


async def test_a_configured_key_path_is_used(
    make_settings: Callable[..., Settings], identity_database_url: str, tmp_path: Path
) -> None:
    configured = tmp_path / "keys" / "signing.pem"
    key = Ed25519PrivateKey.generate()
    configured.parent.mkdir()
    configured.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    settings = make_settings(
        databases={"identity": identity_database_url}, jwt_private_key_path=configured
    )
    async with running_identity(settings) as identity:
        tokens = await identity.tokens(identity.member)
    assert not (tmp_path / KEY_FILE_NAME).exists()
    # The token was signed with the configured key.
    jwt.decode(
        tokens.access_token,
        key.public_key(),
        algorithms=["EdDSA"],
        audience=settings.jwt_audience,
    )
