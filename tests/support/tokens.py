"""Access tokens signed as identity signs them, for testing a service without identity.

tokens = TokenFactory()
runtime = Runtime(settings, jwks_fetch=tokens.jwks)
await client.get("/api/v1/me/likes", headers=tokens.headers(user_id=7))
"""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bandstand.platform.settings import Settings


class TokenFactory:
    def __init__(self, settings: Settings | None = None, *, kid: str = "test-key") -> None:
        defaults = settings or Settings(_env_file=None)
        self.issuer = defaults.jwt_issuer
        self.audience = defaults.jwt_audience
        self.kid = kid
        self._key = Ed25519PrivateKey.generate()

    def token(
        self, *, user_id: int = 1, role: str = "user", lifetime: int = 300, **claims: Any
    ) -> str:
        now = int(time.time())
        payload: dict[str, Any] = {
            "sub": str(user_id),
            "role": role,
            "iat": now,
            "exp": now + lifetime,
            "jti": uuid.uuid4().hex,
            "iss": self.issuer,
            "aud": self.audience,
            **claims,
        }
        return jwt.encode(payload, self._key, algorithm="EdDSA", headers={"kid": self.kid})

    def headers(
        self, *, user_id: int = 1, role: str = "user", lifetime: int = 300
    ) -> dict[str, str]:
        token = self.token(user_id=user_id, role=role, lifetime=lifetime)
        return {"Authorization": f"Bearer {token}"}

    async def jwks(self) -> dict[str, Any]:
        """The public key as a JWKS document: pass as `Runtime(..., jwks_fetch=tokens.jwks)`."""
        raw = self._key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        return {
            "keys": [
                {
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": x,
                    "kid": self.kid,
                    "alg": "EdDSA",
                    "use": "sig",
                }
            ]
        }
