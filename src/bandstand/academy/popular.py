"""The popular courses, kept in the platform cache (memory, or Redis shared by every replica).

The ranking (up to `POPULAR_LIMIT` active courses by enrolment count) is read far more often than
it changes. It is stored as one entry for `ttl` seconds and dropped after the commit of every
change that moves it: an enrolment made or withdrawn, a learner erased, a course or lesson
changed. The time-to-live bounds what a reader can miss: a read that started before a commit and
stores its answer after the drop, or a drop lost while Redis was away.

A cache that fails is bypassed (the ranking is computed), never an error.
"""

from __future__ import annotations

import asyncio
import json
import logging
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.platform.after_commit import after_commit
from bandstand.platform.cache import Cache

logger = logging.getLogger(__name__)

POPULAR_LIMIT = 100
POPULAR_CACHE_SECONDS = 60.0
KEY = "academy:popular-courses:v1"


class PopularCourses:
    def __init__(self, cache: Cache, *, ttl: float = POPULAR_CACHE_SECONDS) -> None:
        self.cache = cache
        self.ttl = ttl
        # The last ranking read, decoded: the same stored text is not decoded again.
        self._last: tuple[str, list[dict[str, Any]]] | None = None
        self._filling = asyncio.Lock()

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    async def read(self) -> list[dict[str, Any]] | None:
        """The stored ranking, or None when there is none (or no cache to ask)."""
        if not self.enabled:
            return None
        try:
            stored = await self.cache.get(KEY)
        except Exception as exc:
            logger.warning("popular courses: cache unavailable, computing: %s", exc)
            return None
        if stored is None:
            return None
        if self._last is not None and self._last[0] == stored:
            return self._last[1]
        items = json.loads(stored)
        if not isinstance(items, list):
            return None
        self._last = (stored, items)
        return items

    def filling(self) -> AbstractAsyncContextManager[object]:
        """Held while this process computes a missing ranking: the requests that miss meanwhile
        wait for it instead of computing it too (without a cache, each computes its own)."""
        return self._filling if self.enabled else nullcontext()

    async def store(self, items: list[dict[str, Any]]) -> None:
        if not self.enabled:
            return
        try:
            await self.cache.set(KEY, json.dumps(items), ttl=self.ttl)
        except Exception as exc:
            logger.warning("popular courses: cache unavailable, not stored: %s", exc)

    def invalidate(self, session: AsyncSession) -> None:
        """Drop the ranking once the transaction of `session` commits."""
        after_commit(session, self.drop, key=KEY)

    async def drop(self) -> None:
        try:
            await self.cache.delete(KEY)
        except Exception as exc:
            logger.warning("popular courses: cache unavailable, not dropped: %s", exc)


async def _popular(request: Request) -> PopularCourses:
    popular: PopularCourses = request.app.state.popular_courses
    return popular


Popular = Annotated[PopularCourses, Depends(_popular)]
"""The routes' typed dependency on the app's `PopularCourses`."""
