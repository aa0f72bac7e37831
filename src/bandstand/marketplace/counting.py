"""Counts and deep pages of the listing at a million rows.

An exact `count(*)` of a million listings, or an OFFSET of 500,000 (page 10,000), walks half a
million index entries: a few hundred milliseconds, on every page of the same list. So, for
`settings.list_count_cache_seconds`, each list (its filters and the day, which decides what has
expired) keeps in the platform cache:

- its count, computed exactly once;
- for the id order, its anchors: the id of every `ANCHOR_EVERY`-th listing, found in one scan
  when a page deeper than that is first asked for. Page N then starts from the anchor below its
  offset (`id > anchor`), and walks at most `ANCHOR_EVERY` entries instead of the whole offset.

One request per process computes a missing count or anchor list while the others asking for it
wait; once older than the cache time, the value is still answered while one request recomputes
it. Every committed write of the marketplace moves its write generation
(`platform.write_generation`), which is part of every key: the next read counts afresh, in every
process sharing the cache. The import command moves it too; with an in-memory cache, which it
cannot reach from its own process, its writes show in counts and deep pages within the cache
time at most. The setting at 0 counts every time.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.marketplace.models import Instrument
from bandstand.marketplace.repository import InstrumentFilters, InstrumentRepository
from bandstand.platform.write_generation import WriteGeneration

ANCHOR_EVERY = 5000
FILL_WAIT = 10.0
KEPT_STALE = 10
"""A value is kept this many cache times, answered (while recomputed) once it is stale."""


class ListingCounter:
    def __init__(
        self, generation: WriteGeneration, ttl: float, *, anchor_every: int = ANCHOR_EVERY
    ) -> None:
        self.generation = generation
        self.cache = generation.cache
        self.ttl = ttl
        self.anchor_every = anchor_every
        self.instruments = InstrumentRepository()
        self._filling: dict[str, asyncio.Event] = {}

    async def _key(self, kind: str, filters: InstrumentFilters) -> str:
        generation = await self.generation.current()
        described = json.dumps(asdict(filters), default=str, sort_keys=True)
        digest = hashlib.sha256(described.encode()).hexdigest()[:32]
        return f"marketplace:{kind}:{generation}:{digest}"

    async def _reused(self, key: str, compute: Callable[[], Awaitable[Any]]) -> Any:
        """The value under `key`, computed by one request per process at a time.

        A value older than the cache time is still answered while one request recomputes it
        (the others do not wait); a missing one (first use, or a write since) is computed once
        while the others asking for it wait, up to `FILL_WAIT` seconds.
        """
        entry = await self._entry(key)
        if entry is not None and (entry[1] > time.time() or key in self._filling):
            return entry[0]
        filling = self._filling.get(key)
        if entry is None and filling is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(filling.wait(), FILL_WAIT)
            entry = await self._entry(key)
            if entry is not None:
                return entry[0]
        event = self._filling[key] = asyncio.Event()
        try:
            value = await compute()
            stored = {"value": value, "fresh_until": time.time() + self.ttl}
            await self.cache.set(key, json.dumps(stored), self.ttl * KEPT_STALE)
            return value
        finally:
            event.set()
            if self._filling.get(key) is event:
                del self._filling[key]

    async def _entry(self, key: str) -> tuple[Any, float] | None:
        raw = await self.cache.get(key)
        if raw is None:
            return None
        stored = json.loads(raw)
        return stored["value"], float(stored["fresh_until"])

    async def count(self, session: AsyncSession, filters: InstrumentFilters) -> int:
        if self.ttl <= 0:
            return await self.instruments.count(session, filters)
        key = await self._key("count", filters)
        return int(await self._reused(key, lambda: self.instruments.count(session, filters)))

    async def page(
        self, session: AsyncSession, filters: InstrumentFilters, offset: int, limit: int
    ) -> Sequence[Instrument]:
        if self.ttl <= 0 or filters.ordering != "id" or offset < self.anchor_every:
            return await self.instruments.page(session, filters, offset, limit)
        key = await self._key(f"anchors{self.anchor_every}", filters)
        anchors = await self._reused(
            key, lambda: self.instruments.anchors(session, filters, self.anchor_every)
        )
        passed = min(offset // self.anchor_every, len(anchors))
        if passed == 0:
            return await self.instruments.page(session, filters, offset, limit)
        return await self.instruments.page(
            session,
            filters,
            offset - passed * self.anchor_every,
            limit,
            after_id=int(anchors[passed - 1]),
        )
