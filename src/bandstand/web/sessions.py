"""Signed-in sessions of the pages: the tokens stay on the server, the browser holds an id.

The cookie carries only a random session id (`HttpOnly`, `SameSite=Lax`, `Secure` over HTTPS).
The tokens identity issued live in the platform's cache (memory, or Redis in distributed mode so
that every replica sees them) under a hash of that id, kept as long as the refresh token. An
access token about to expire is rotated on the next request, once per session even when several
requests arrive together; log-out revokes the refresh token at identity and forgets the session."""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import time
from dataclasses import asdict, dataclass, replace

from starlette.requests import Request
from starlette.responses import Response

from bandstand.platform.cache import Cache
from bandstand.platform.errors import BandstandError
from bandstand.platform.security import Principal, TokenVerifier
from bandstand.web.api import PlatformApi

COOKIE = "bandstand_session"
REFRESH_MARGIN_SECONDS = 30
"""An access token with less than this left is rotated before the request uses it."""


@dataclass(frozen=True)
class WebSession:
    id: str
    access_token: str
    refresh_token: str
    expires_at: float
    user_id: int
    username: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_instructor(self) -> bool:
        return self.role in ("instructor", "admin")


class Sessions:
    def __init__(
        self, cache: Cache, verifier: TokenVerifier, api: PlatformApi, ttl_seconds: float
    ) -> None:
        self.cache = cache
        self.verifier = verifier
        self.api = api
        self.ttl_seconds = ttl_seconds
        self._refreshing: dict[str, asyncio.Lock] = {}

    @staticmethod
    def _key(session_id: str) -> str:
        return "web:session:" + hashlib.sha256(session_id.encode()).hexdigest()

    async def _read(self, session_id: str) -> WebSession | None:
        raw = await self.cache.get(self._key(session_id))
        if raw is None:
            return None
        return WebSession(id=session_id, **json.loads(raw))

    async def _write(self, session: WebSession) -> None:
        fields = asdict(session)
        del fields["id"]
        await self.cache.set(self._key(session.id), json.dumps(fields), ttl=self.ttl_seconds)

    async def begin(self, login: dict[str, object], response: Response, request: Request) -> None:
        """Keeps the tokens of a successful log-in and gives the browser its session cookie."""
        user = login["user"]
        assert isinstance(user, dict)
        session = WebSession(
            id=secrets.token_urlsafe(32),
            access_token=str(login["access_token"]),
            refresh_token=str(login["refresh_token"]),
            expires_at=time.time() + float(str(login["expires_in"])),
            user_id=int(user["id"]),
            username=str(user["username"]),
            role=str(user["role"]),
        )
        await self._write(session)
        response.set_cookie(
            COOKIE,
            session.id,
            max_age=int(self.ttl_seconds),
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path="/",
        )

    async def current(self, request: Request) -> WebSession | None:
        """The request's signed-in session with a live access token, or None."""
        session_id = request.cookies.get(COOKIE)
        if not session_id or len(session_id) > 128:
            return None
        session = await self._read(session_id)
        if session is None:
            return None
        if session.expires_at - time.time() < REFRESH_MARGIN_SECONDS:
            session = await self._rotate(session)
            if session is None:
                return None
        principal = await self._principal(session)
        if principal is None:
            # Revoked (log-out elsewhere, deactivated account, password changed): gone here too.
            await self.cache.delete(self._key(session_id))
            return None
        if principal.role != session.role:
            session = replace(session, role=principal.role)
        return session

    async def _principal(self, session: WebSession) -> Principal | None:
        try:
            return await self.verifier.verify(session.access_token)
        except BandstandError as exc:
            if exc.status_code == 401:
                return None
            raise

    async def _rotate(self, stale: WebSession) -> WebSession | None:
        lock = self._refreshing.setdefault(stale.id, asyncio.Lock())
        try:
            async with lock:
                session = await self._read(stale.id)
                if session is None:
                    return None
                if session.expires_at - time.time() >= REFRESH_MARGIN_SECONDS:
                    return session  # another request of this session rotated it meanwhile
                answer = await self.api.call(
                    "POST",
                    "/api/v1/token/refresh",
                    json_body={"refresh_token": session.refresh_token},
                )
                if answer.status in (400, 401, 403, 422):
                    await self.cache.delete(self._key(session.id))
                    return None
                if not answer.ok:
                    raise BandstandError(answer.detail())
                rotated = replace(
                    session,
                    access_token=answer.body["access_token"],
                    refresh_token=answer.body["refresh_token"],
                    expires_at=time.time() + float(answer.body["expires_in"]),
                )
                await self._write(rotated)
                return rotated
        finally:
            if not lock.locked():
                self._refreshing.pop(stale.id, None)

    async def rename(self, session: WebSession, username: str) -> None:
        await self._write(replace(session, username=username))

    async def end(self, request: Request, response: Response) -> None:
        """Revokes the session's refresh token at identity and forgets the session."""
        # Through `current`: an access token past its time is rotated first, or identity would
        # refuse the log-out and the refresh token would stay valid.
        session = await self.current(request)
        if session is not None:
            await self.api.call(
                "POST",
                "/api/v1/logout",
                token=session.access_token,
                json_body={"refresh_token": session.refresh_token},
            )
            await self.cache.delete(self._key(session.id))
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")
