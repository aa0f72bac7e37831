"""What one process shares between the services it runs: settings, cache, broker and keys.

In embedded mode every service in the process uses the same runtime, so the in-memory cache and
the security store (token denylist, rate limits) are one each. Started and stopped by reference
count: the first app to start it connects, the last one to stop closes.
"""

from __future__ import annotations

import asyncio
import logging

from bandstand.platform.cache import Cache, create_cache, create_security_store
from bandstand.platform.directory import ServiceDirectory
from bandstand.platform.errors import ServiceUnavailable
from bandstand.platform.messaging.broker import Broker
from bandstand.platform.messaging.factory import create_broker
from bandstand.platform.ratelimit import RateLimiter
from bandstand.platform.redis_cache import RedisCache
from bandstand.platform.security import (
    Denylist,
    JWKSFetcher,
    JWKSProvider,
    TokenVerifier,
    jwks_from_url,
)
from bandstand.platform.settings import Settings

logger = logging.getLogger("bandstand.runtime")


async def _no_jwks() -> dict[str, object]:
    raise ServiceUnavailable("No JWKS source configured: set BANDSTAND_SERVICE_URLS__IDENTITY")


class Runtime:
    def __init__(
        self,
        settings: Settings,
        *,
        cache: Cache | None = None,
        security_store: Cache | None = None,
        broker: Broker | None = None,
        jwks_fetch: JWKSFetcher | None = None,
    ) -> None:
        self.settings = settings
        # Cached answers, free to forget; security state apart, never evicted before expiry.
        self.cache = cache or create_cache(settings.cache_url, max_bytes=settings.cache_max_bytes)
        self.security_store = security_store or create_security_store(
            settings.security_store_url or settings.cache_url
        )
        self.broker = broker or create_broker(settings.broker_url, settings.data_dir)
        urls = settings.jwks_urls()
        self._jwks = JWKSProvider(
            jwks_fetch or (jwks_from_url(urls) if urls else _no_jwks),
            cache_seconds=settings.jwks_cache_seconds,
        )
        # Filled by the composition root for the services that report on the others.
        self.services = ServiceDirectory()
        self.denylist = Denylist(
            self.security_store, token_lifetime=settings.access_token_ttl_seconds
        )
        self.rate_limiter = RateLimiter(self.security_store)
        self.verifier = TokenVerifier(
            self._jwks,
            self.denylist,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )
        self._users = 0
        self._lock = asyncio.Lock()

    def use_jwks(self, fetch: JWKSFetcher) -> None:
        """Read keys from `fetch` (identity in the same process) instead of over HTTP."""
        self._jwks = JWKSProvider(fetch, cache_seconds=self.settings.jwks_cache_seconds)
        self.verifier = TokenVerifier(
            self._jwks,
            self.denylist,
            issuer=self.settings.jwt_issuer,
            audience=self.settings.jwt_audience,
        )

    async def ping_cache(self) -> None:
        """Raises when the cache or the security store cannot be reached."""
        await self.cache.ping()
        if self.security_store is not self.cache:
            await self.security_store.ping()

    async def start(self) -> None:
        async with self._lock:
            self._users += 1
            if self._users > 1:
                return
            try:
                await self.broker.connect()
            except Exception as exc:  # the relay keeps retrying; the service still starts
                logger.warning("broker not reachable at start, will retry: %s", exc)
            await self._check_security_store()

    async def _check_security_store(self) -> None:
        if not isinstance(self.security_store, RedisCache):
            return
        policy = await self.security_store.eviction_policy()
        if policy is not None:
            logger.warning(
                "the security store's Redis may evict keys (maxmemory-policy %s): revoked tokens "
                "and login limits could be forgotten early; give it a Redis with noeviction",
                policy,
            )

    async def stop(self) -> None:
        async with self._lock:
            self._users -= 1
            if self._users > 0:
                return
            await self.broker.close()
            await self.cache.close()
            await self.security_store.close()
