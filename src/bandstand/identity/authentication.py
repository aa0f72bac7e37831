"""Logging in, refresh-token rotation and logging out.

Login throttling (OWASP's Authentication cheat sheet): failed logins are limited per client
address and account, and per address whatever the account; each limit's slot is reserved before
the password is checked, so a burst of concurrent attempts cannot all pass. Per account, from
any address, failures past a threshold only delay the next logins of that account (doubling, up
to a ceiling): an attacker is slowed down but cannot lock the owner out from another address.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.identity import events, passwords
from bandstand.identity.models import RefreshToken, User
from bandstand.identity.passwords import hash_password, needs_rehash, verify_password
from bandstand.identity.repository import RefreshTokenRepository, UserRepository
from bandstand.identity.tokens import TokenIssuer, hash_refresh_token, new_refresh_token
from bandstand.platform.clients import client_address
from bandstand.platform.clock import utcnow
from bandstand.platform.concurrency import Busy
from bandstand.platform.errors import ErrorBody, RateLimited, Unauthorized
from bandstand.platform.ratelimit import Limit, RateLimiter
from bandstand.platform.schemas import as_utc
from bandstand.platform.security import Denylist, Principal
from bandstand.platform.settings import Settings


class InvalidCredentials(Unauthorized):
    default_detail = "Invalid credentials"


class InvalidRefreshToken(Unauthorized):
    default_detail = "Invalid refresh token"


class RefreshTokenReused(InvalidRefreshToken):
    default_detail = "Refresh token reuse detected; please log in again"
    keeps_changes = True  # the family's revocation must be stored despite the 401


@dataclass(frozen=True)
class IssuedTokens:
    user: User
    access_token: str
    refresh_token: str
    expires_in: int


@dataclass(frozen=True)
class ClientInfo:
    ip_address: str | None
    user_agent: str | None


class AuthenticationService:
    def __init__(
        self, issuer: TokenIssuer, settings: Settings, limiter: RateLimiter, denylist: Denylist
    ) -> None:
        self.users = UserRepository()
        self.refresh_tokens = RefreshTokenRepository()
        self._issuer = issuer
        self._refresh_ttl = timedelta(seconds=settings.refresh_token_ttl_seconds)
        self._limiter = limiter
        self._denylist = denylist
        self._failure_limit = Limit(
            settings.login_max_failures, settings.login_failure_window_seconds
        )
        self._address_limit = Limit(
            settings.login_max_failures_per_address, settings.login_failure_window_seconds
        )
        self._account_window = settings.login_account_window_seconds
        self._account_delay_after = settings.login_account_delay_after
        self._account_max_delay = settings.login_account_max_delay_seconds
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    def account_delay(self, earlier_failures: int) -> float:
        """Seconds a login of an account waits after `earlier_failures` recent failed ones."""
        excess = earlier_failures - self._account_delay_after
        if excess < 0:
            return 0.0
        return float(min(self._account_max_delay, 0.5 * 2 ** min(excess, 32)))

    async def login(
        self, session: AsyncSession, login: str, password: str, client: ClientInfo
    ) -> IssuedTokens:
        # Refused before anything is looked up or counted while every hashing slot is taken: a
        # flood of such requests costs neither queries nor entries in the security store.
        passwords.HASHING.ensure_free()
        user = await self.users.by_login(session, login)
        # Failure counters per client address and account, whichever of its names (username or
        # email) is tried; names of no account count on their own.
        subject = f"user:{user.id}" if user is not None else f"name:{login.strip().lower()}"
        address = client.ip_address or "-"
        pair_key, address_key = f"login:{address}:{subject}", f"login-address:{address}"
        account_key = f"login-account:{subject}"
        await self._limiter.reserve(address_key, self._address_limit)
        try:
            await self._limiter.reserve(pair_key, self._failure_limit)
        except RateLimited:
            await self._limiter.release(address_key, self._address_limit)
            raise
        attempts = await self._limiter.record(account_key, self._account_window)
        try:
            delay = self.account_delay(attempts - 1)
            if delay:
                await self.sleep(delay)
            valid = await verify_password(user.password_hash if user else None, password)
        except BaseException:  # too busy to check, or the client left: not a failure
            await self._limiter.release(pair_key, self._failure_limit)
            await self._give_back(address_key, account_key)
            raise
        if user is None or not valid or not user.is_active:
            raise InvalidCredentials()
        await self._limiter.reset(pair_key)
        await self._give_back(address_key, account_key)
        if needs_rehash(user.password_hash):
            with contextlib.suppress(Busy):  # kept as it is until a login finds a free slot
                user.password_hash = await hash_password(password)
        user.last_login_at = utcnow()
        tokens = await self.issue(session, user)
        await events.user_logged_in(session, user, client.ip_address, client.user_agent)
        return tokens

    async def _give_back(self, address_key: str, account_key: str) -> None:
        """The address's and the account's slots of an attempt that was not a failure."""
        await self._limiter.release(address_key, self._address_limit)
        await self._limiter.release(account_key, Limit(0, self._account_window))

    async def refresh(self, session: AsyncSession, refresh_token: str) -> IssuedTokens:
        """Rotate: the presented token is spent and a new one of the same family issued.

        Presenting a spent token means it was stolen or replayed: the whole family is revoked.
        """
        stored = await self.refresh_tokens.by_hash(session, hash_refresh_token(refresh_token))
        now = utcnow()
        if stored is None or stored.revoked_at is not None or as_utc(stored.expires_at) <= now:
            raise InvalidRefreshToken()
        if stored.used_at is not None or not await self.refresh_tokens.mark_used(
            session, stored.id, now
        ):
            # Stolen or replayed: the whole login session ends, its access tokens included.
            await self.refresh_tokens.revoke_family(session, stored.family_id, now)
            await self._denylist.revoke_session(stored.family_id)
            raise RefreshTokenReused()
        user = await self.users.get(session, stored.user_id)
        if user is None or not user.is_active:
            raise InvalidRefreshToken()
        return await self.issue(session, user, family_id=stored.family_id)

    async def logout(
        self, session: AsyncSession, principal: Principal, refresh_token: str | None
    ) -> None:
        """End the caller's login session: its refresh tokens and every access token issued in
        it (not only the one presented), and the session of `refresh_token` when it is theirs."""
        now = utcnow()
        if principal.session_id:
            await self.refresh_tokens.revoke_family(session, principal.session_id, now)
            await self._denylist.revoke_session(principal.session_id)
        if refresh_token:
            stored = await self.refresh_tokens.by_hash(session, hash_refresh_token(refresh_token))
            if stored is not None and stored.user_id == principal.id:
                await self.refresh_tokens.revoke_family(session, stored.family_id, now)
                await self._denylist.revoke_session(stored.family_id)
        await self._denylist.revoke(principal.token_id, principal.expires_at)

    async def issue(
        self, session: AsyncSession, user: User, family_id: str | None = None
    ) -> IssuedTokens:
        """An access token and a refresh token for `user`, once the caller has authenticated it.

        Without `family_id` a new login session (refresh-token family) starts.
        """
        family_id = family_id or str(uuid.uuid4())
        access = self._issuer.access_token(user.id, user.role, family_id)
        refresh = new_refresh_token()
        await self.refresh_tokens.add(
            session,
            RefreshToken(
                user_id=user.id,
                family_id=family_id,
                token_hash=hash_refresh_token(refresh),
                expires_at=utcnow() + self._refresh_ttl,
            ),
        )
        return IssuedTokens(user, access.token, refresh, access.expires_in)


# The routes' typed dependencies on this service, and the refusals its logins document.

LOGIN_RESPONSES: dict[int | str, dict[str, object]] = {
    429: {
        "model": ErrorBody,
        "description": "Too many failed logins from this address (for this account); see "
        "`Retry-After`",
    },
    503: {
        "model": ErrorBody,
        "description": "Too many passwords being checked at once, or a database or cache is "
        "unreachable; see `Retry-After`",
    },
}


async def _authentication(request: Request) -> AuthenticationService:
    service: AuthenticationService = request.app.state.authentication
    return service


async def client_info(request: Request) -> ClientInfo:
    return ClientInfo(
        ip_address=client_address(request), user_agent=request.headers.get("user-agent")
    )


Authentication = Annotated[AuthenticationService, Depends(_authentication)]
Client = Annotated[ClientInfo, Depends(client_info)]
