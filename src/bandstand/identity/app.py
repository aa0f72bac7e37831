"""Identity's application: its routers on the platform kernel, plus its signing key."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from bandstand.identity import compat, endpoints, passwords
from bandstand.identity.authentication import AuthenticationService
from bandstand.identity.tokens import KeyStore, TokenIssuer
from bandstand.platform.app import create_service_app
from bandstand.platform.runtime import Runtime

NAME = "identity"


def create_app(runtime: Runtime) -> FastAPI:
    settings = runtime.settings
    keys = KeyStore.from_settings(settings)
    passwords.limit_concurrency(settings.password_hashing_max_concurrent)

    async def local_jwks() -> dict[str, Any]:
        return keys.jwks()

    async def prepare_passwords(_app: FastAPI) -> None:
        await passwords.prepare()

    # Identity verifies its own tokens with its own public key, never over the network.
    runtime.use_jwks(local_jwks)
    app = create_service_app(
        NAME,
        [endpoints.keys_router, endpoints.router, compat.router],
        runtime,
        description="Users, roles, credentials and tokens.",
        on_startup=[prepare_passwords],
    )
    app.state.keys = keys
    app.state.authentication = AuthenticationService(
        TokenIssuer(keys, settings), settings, runtime.rate_limiter, runtime.denylist
    )
    return app
