"""Local verification of identity's access tokens, and the role dependencies of every route.

Only identity signs tokens. Every other service verifies them here against identity's JWKS,
cached and refetched when a token names an unknown `kid`, and checks the shared denylist of
revoked tokens, login sessions and users kept in the platform's security store.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bandstand.platform.cache import Cache
from bandstand.platform.errors import Forbidden, ServiceUnavailable, Unauthorized

logger = logging.getLogger("bandstand.security")

ROLES = ("user", "instructor", "admin")
ALGORITHMS = ["EdDSA"]
JWKSFetcher = Callable[[], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Principal:
    """The caller, as its access token describes it."""

    id: int
    role: str
    token_id: str
    session_id: str | None
    expires_at: int
    issued_at: float = 0

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def can_act_for(self, user_id: int) -> bool:
        return self.is_admin or self.id == user_id


class JWKSProvider:
    """Public keys by `kid`, fetched on demand and kept for `cache_seconds`."""

    def __init__(self, fetch: JWKSFetcher, *, cache_seconds: float = 300, min_refetch: float = 5):
        self._fetch = fetch
        self._cache_seconds = cache_seconds
        self._min_refetch = min_refetch
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> jwt.PyJWK | None:
        now = time.monotonic()
        stale = now - self._fetched_at > self._cache_seconds
        if kid in self._keys and not stale:
            return self._keys[kid]
        if kid in self._keys or stale or now - self._fetched_at > self._min_refetch:
            await self._refresh()
        return self._keys.get(kid)

    async def _refresh(self) -> None:
        async with self._lock:
            try:
                document = await self._fetch()
            except Exception as exc:
                if self._keys:
                    logger.warning("JWKS refresh failed, keeping cached keys: %s", exc)
                    return
                raise ServiceUnavailable("Identity keys unavailable, try again shortly") from exc
            keys: dict[str, jwt.PyJWK] = {}
            for entry in document.get("keys", []):
                try:
                    keys[entry["kid"]] = jwt.PyJWK(entry)
                except (KeyError, jwt.PyJWKError) as exc:
                    logger.warning("ignoring unusable JWK: %s", exc)
            self._keys = keys
            self._fetched_at = time.monotonic()


def jwks_from_url(url: str | Sequence[str], timeout: float = 3.0) -> JWKSFetcher:
    """A fetcher reading identity's `/.well-known/jwks.json` over HTTP; given several URLs
    (identity's replicas), each in turn until one answers."""
    urls = [url] if isinstance(url, str) else list(url)

    async def fetch() -> dict[str, Any]:
        import aiohttp

        client_timeout = aiohttp.ClientTimeout(total=timeout)
        async with aiohttp.ClientSession(timeout=client_timeout) as session:
            for index, each in enumerate(urls):
                try:
                    async with session.get(each) as response:
                        response.raise_for_status()
                        document: dict[str, Any] = json.loads(await response.read())
                        return document
                except (aiohttp.ClientError, TimeoutError, OSError, ValueError):
                    if index == len(urls) - 1:
                        raise
        raise ValueError("no JWKS URL")

    return fetch


class Denylist:
    """Access tokens revoked before they expire, shared by every service through the security
    store (never evicted before expiry, unlike cached answers).

    One token is revoked by its id; every token of a login session by its session id (`sid`:
    logout, a refresh token replayed, a password changed elsewhere); all of a user's tokens issued
    so far by a marker holding the revocation time (deactivation, deletion, a role or password
    set by an admin).
    """

    def __init__(self, store: Cache, *, token_lifetime: float = 900) -> None:
        self._store = store
        self._token_lifetime = token_lifetime

    async def revoke(self, token_id: str, expires_at: int) -> None:
        ttl = expires_at - time.time()
        if ttl > 0:
            await self._store.set(f"revoked-jti:{token_id}", "1", ttl=ttl)

    async def revoke_session(self, session_id: str) -> None:
        """Every access token of the login session `session_id`, issued or to be issued."""
        # Kept as long as the longest-lived token issued before now; the session's refresh
        # tokens are revoked in identity's database, so no newer access token is issued in it.
        await self._store.set(f"revoked-sid:{session_id}", "1", ttl=self._token_lifetime + 1)

    async def revoke_user(self, user_id: int) -> None:
        """Every token of `user_id` issued before now stops working; new logins are unaffected."""
        # Kept as long as the longest-lived token issued before now.
        await self._store.set(
            f"revoked-user:{user_id}", f"{time.time():.3f}", ttl=self._token_lifetime + 1
        )

    async def is_revoked(
        self, token_id: str, user_id: int, issued_at: float, session_id: str | None = None
    ) -> bool:
        keys = [f"revoked-jti:{token_id}", f"revoked-user:{user_id}"]
        if session_id is not None:
            keys.append(f"revoked-sid:{session_id}")
        token, user, *revoked_session = await self._store.get_many(*keys)
        if token is not None or any(value is not None for value in revoked_session):
            return True
        # With only whole seconds (no `iat_ms`), a token issued in the second of the revocation
        # counts as issued before it.
        return user is not None and issued_at < float(user)


class TokenVerifier:
    """Verifies access tokens; a token whose signature was checked in the last
    `reverify_seconds` is not checked again (a client sends the same token with every request,
    and an EdDSA verification costs more than the rest of a small request). Expiry and the
    denylist are checked on every request."""

    def __init__(
        self,
        keys: JWKSProvider,
        denylist: Denylist,
        *,
        issuer: str,
        audience: str,
        reverify_seconds: float = 60.0,
        remembered: int = 4096,
    ) -> None:
        self._keys = keys
        self._denylist = denylist
        self._issuer = issuer
        self._audience = audience
        self._reverify_seconds = reverify_seconds
        self._remembered = remembered
        self._verified: OrderedDict[str, tuple[Principal, float]] = OrderedDict()

    async def verify(self, token: str) -> Principal:
        principal = self._recently_verified(token) or await self._verify_signature(token)
        if await self._denylist.is_revoked(
            principal.token_id, principal.id, principal.issued_at, principal.session_id
        ):
            raise Unauthorized("Token revoked")
        return principal

    def _recently_verified(self, token: str) -> Principal | None:
        entry = self._verified.get(token)
        if entry is None:
            return None
        principal, checked_until = entry
        if time.time() >= min(checked_until, principal.expires_at):
            del self._verified[token]  # verified again, which reports an expiry
            return None
        self._verified.move_to_end(token)
        return principal

    def _remember(self, token: str, principal: Principal) -> None:
        self._verified[token] = (principal, time.time() + self._reverify_seconds)
        while len(self._verified) > self._remembered:
            self._verified.popitem(last=False)

    async def _verify_signature(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("Invalid token") from exc
        kid = header.get("kid")
        if header.get("alg") not in ALGORITHMS or not isinstance(kid, str):
            raise Unauthorized("Invalid token")
        key = await self._keys.key(kid)
        if key is None:
            raise Unauthorized("Invalid token")
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=ALGORITHMS,
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "iat", "sub", "jti", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("Token expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("Invalid token") from exc
        principal = _principal(claims)
        self._remember(token, principal)
        return principal


def _principal(claims: dict[str, Any]) -> Principal:
    role, subject, token_id = claims.get("role"), claims.get("sub"), claims.get("jti")
    if role not in ROLES or not isinstance(subject, str) or not subject.isdigit():
        raise Unauthorized("Invalid token")
    if not isinstance(token_id, str):
        raise Unauthorized("Invalid token")
    session_id = claims.get("sid")
    return Principal(
        id=int(subject),
        role=role,
        token_id=token_id,
        session_id=session_id if isinstance(session_id, str) else None,
        expires_at=int(claims["exp"]),
        issued_at=_issued_at(claims),
    )


def _issued_at(claims: dict[str, Any]) -> float:
    milliseconds = claims.get("iat_ms")
    if isinstance(milliseconds, int) and abs(milliseconds / 1000 - claims["iat"]) < 1:
        return milliseconds / 1000
    return float(claims["iat"])


_bearer = HTTPBearer(auto_error=False, description="An access token from identity's login.")


async def optional_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    if credentials is None or credentials.scheme.lower() != "bearer":
        return None
    verifier: TokenVerifier = request.app.state.runtime.verifier
    principal = await verifier.verify(credentials.credentials)
    request.scope.setdefault("state", {})["principal"] = principal
    return principal


async def current_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    if principal is None:
        raise Unauthorized("Not authenticated")
    return principal


def require_role(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting only callers with one of `roles`."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")

    async def dependency(
        principal: Annotated[Principal, Depends(current_principal)],
    ) -> Principal:
        if principal.role not in roles:
            raise Forbidden("Insufficient permissions")
        return principal

    return dependency


async def _denylist(request: Request) -> Denylist:
    denylist: Denylist = request.app.state.runtime.denylist
    return denylist


Revocations = Annotated[Denylist, Depends(_denylist)]
OptionalUser = Annotated[Principal | None, Depends(optional_principal)]
CurrentUser = Annotated[Principal, Depends(current_principal)]
AdminUser = Annotated[Principal, Depends(require_role("admin"))]
InstructorUser = Annotated[Principal, Depends(require_role("instructor", "admin"))]
