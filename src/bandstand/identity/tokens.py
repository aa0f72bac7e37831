"""Signing keys, access tokens (EdDSA JWTs) and opaque refresh tokens."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
import uuid
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bandstand.platform.settings import Settings

JWKS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "keys": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    name: {"type": "string"} for name in ("kty", "crv", "x", "kid", "alg", "use")
                },
            },
        }
    },
}
KEY_FILE_NAME = "identity-ed25519.pem"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class IssuedAccessToken:
    token: str
    token_id: str
    expires_at: int
    expires_in: int


class KeyStore:
    """Identity's Ed25519 key: loaded from the configured path, or generated in the data dir."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key
        public_raw = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self._public_jwk: dict[str, str] = {
            "crv": "Ed25519",
            "kty": "OKP",
            "x": _b64url(public_raw),
        }
        # RFC 7638 thumbprint: the kid changes exactly when the key does.
        canonical = json.dumps(self._public_jwk, separators=(",", ":"), sort_keys=True)
        self.kid = _b64url(hashlib.sha256(canonical.encode()).digest())

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyStore:
        path = settings.jwt_private_key_path or settings.data_dir / KEY_FILE_NAME
        return cls(load_or_create_key(Path(path)))

    @cached_property
    def jwks_json(self) -> bytes:
        return json.dumps(self.jwks(), separators=(",", ":")).encode()

    def jwks(self) -> dict[str, Any]:
        return {"keys": [{**self._public_jwk, "kid": self.kid, "alg": "EdDSA", "use": "sig"}]}

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self._private_key, algorithm="EdDSA", headers={"kid": self.kid})


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key")
        return key
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    # Created readable by the owner only: the key is never on disk with wider permissions.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
        file.flush()
        os.fsync(file.fileno())
    try:
        # Two processes starting at once must end up with the same key: the first link wins.
        os.link(temporary, path)
    except FileExistsError:
        temporary.unlink()
        return load_or_create_key(path)
    temporary.unlink()
    return key


class TokenIssuer:
    def __init__(self, keys: KeyStore, settings: Settings) -> None:
        self._keys = keys
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self._ttl = settings.access_token_ttl_seconds

    def access_token(self, user_id: int, role: str, session_id: str) -> IssuedAccessToken:
        issued_at = time.time()
        now = int(issued_at)
        token_id = uuid.uuid4().hex
        claims = {
            "sub": str(user_id),
            "role": role,
            "iat": now,
            # `iat` stays whole seconds for the clients of the inherited contracts; with the
            # milliseconds, revoking every token of a user spares only those issued after it,
            # even within the same second.
            "iat_ms": int(issued_at * 1000),
            "exp": now + self._ttl,
            "jti": token_id,
            "sid": session_id,
            "iss": self._issuer,
            "aud": self._audience,
        }
        return IssuedAccessToken(self._keys.sign(claims), token_id, now + self._ttl, self._ttl)


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
