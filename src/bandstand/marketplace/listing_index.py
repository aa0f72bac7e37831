"""The listings' search index: the kernel's prefix index (`platform.search_index`) over the
folded words of each name, with the listing's filters, derived from the database.

The database is the record; the index follows it by two watermarks saved with it: the highest
listing id it has indexed (new listings, whoever inserted them: the API, an import in another
process, a direct insert) and the highest outbox row of the marketplace's own events it has read
(a listing created, changed or deleted through the service: that listing is read again, or
removed; an import: every listing it wrote, those with `updated_at` from its start, is read
again). Both are in the service's own database, so every process catches up the same way: a
replica, a restarted process, after the import command. On PostgreSQL ids and outbox rows may
commit out of order, so the last `MARGIN` of each are looked at again.

A search reads its page from the index (each listing's object is kept there, written by the
database when the listing was indexed). While the service's write generation
(`platform.write_generation`, moved by every commit to its tables in any process) is the one at
which a search last found the index level with the database, nothing was committed since and the
page is all a search reads. Otherwise it reads the two maxima from the database beside the page
and catches up when they moved past the watermarks, so a committed write is found, as
it is now, by the next search in any process. A background task catches up every
`search_index_poll_seconds` too: it finds what was written outside the platform (by hand,
moving no generation). A listing changed in the database without an event shows as it was until
it is indexed again.

Listings that expired before the index's cutoff day are left out of it (`listing_documents.py`);
the first catch-up of a new day removes those that expired the day before. Until a first build is
finished (a fresh data directory), searches run in SQL (`repository.py`), as they also do for
orders the index does not keep (price, date) and for the category counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.marketplace import events
from bandstand.marketplace.listing_documents import (
    FIELDS,
    VERSION,
    document,
    expired,
    index_query,
    indexed_columns,
)
from bandstand.marketplace.listing_rows import PAGE_JSON
from bandstand.marketplace.models import Instrument
from bandstand.marketplace.repository import InstrumentFilters
from bandstand.platform.clock import utcnow
from bandstand.platform.database import Database
from bandstand.platform.json_pages import JsonPage, find_shown_page
from bandstand.platform.messaging.outbox import outbox_table
from bandstand.platform.search_index import IndexedDocument, PrefixIndex
from bandstand.platform.threads import on_computing_thread
from bandstand.platform.write_generation import WriteGeneration

logger = logging.getLogger("bandstand.marketplace.index")

BATCH = 5000
MARGIN = 256
FRESH_WAIT = 1.0
"""How long a search waits for a catch-up it needs before it answers from the index as it is."""
_REREAD = (events.INSTRUMENT_CREATED, events.INSTRUMENT_UPDATED, events.INSTRUMENT_DELETED)
_WATCHED = (*_REREAD, events.INSTRUMENTS_IMPORTED)


def index_root(data_dir: Path) -> Path:
    return data_dir / "search" / "marketplace-instruments"


class ListingIndex:
    """One process's index of the listings and its catching up with the database."""

    def __init__(
        self,
        database: Database,
        root: Path,
        poll_seconds: float,
        generation: WriteGeneration | None = None,
    ) -> None:
        self.database = database
        self.generation = generation
        # The service's write generation when a search last found the index level with the
        # database: until it moves, no listing or event has been committed since.
        self._level_at: str | None = None
        self.root = root
        self.poll_seconds = poll_seconds
        self.index: PrefixIndex | None = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        # Stopping is asked, not forced by cancelling: a write in a thread is never left
        # running beside a rollback of the same writer.
        self._stopping = asyncio.Event()
        # The ids and outbox rows within `MARGIN` of the watermarks already read (saved with them).
        self._recent_ids: set[int] = set()
        self._recent_events: set[int] = set()

    @property
    def ready(self) -> bool:
        return self.index is not None and self.index.built

    async def start(self) -> None:
        """Take a slot and follow the database (nothing when the poll setting is 0)."""
        if self.poll_seconds > 0 and await self.open():
            self._task = asyncio.create_task(self._follow())

    async def open(self) -> bool:
        """Take a free slot; False (searches run in SQL) when every slot is held."""
        self.index = await asyncio.to_thread(PrefixIndex.open, self.root, FIELDS, VERSION)
        if self.index is None:
            logger.warning(
                "every search index slot under %s is in use: searching in SQL", self.root
            )
        return self.index is not None

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await self._task
        async with self._lock:
            if self.index is not None:
                await asyncio.to_thread(self.index.close)
                self.index = None

    async def _follow(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.catch_up()
            except Exception:
                logger.exception("catching up the search index failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.poll_seconds)

    async def search(
        self,
        session: AsyncSession,
        filters: InstrumentFilters,
        offset: int,
        limit: int,
        shape: JsonPage = PAGE_JSON,
    ) -> tuple[int, str] | None:
        """The count and the page's listings in JSON as `shape` says, found by the index as
        current as what `session` sees; None when the index cannot answer (not built yet, or a
        search it does not keep: `index_query`).

        The page is read from the index; unless the write generation is still the one at which
        the index was last found level, the two maxima the watermarks follow are read from the
        database beside it (`platform.json_pages.find_shown_page`), and when those moved, the
        index catches up first and the page is found again."""
        index = self.index
        if index is None or not index.built:
            return None
        state = index.state
        query = index_query(filters, offset, limit, state.get("day", 0))
        if query is None:
            return None
        cut = shape.cut_before(PAGE_JSON)
        generation = await self._generation_now()
        if generation is not None and generation == self._level_at:
            count, _, shown = await on_computing_thread(partial(index.search_shown, query, cut))
            if shown is not None:
                return count, shown
        found = await find_shown_page(session, shape, partial(index.search_shown, query, cut))
        if self._behind(state, found.extras["top_id"], found.extras["top_event"]):
            await self._catch_up_briefly()
            state = index.state
            query = index_query(filters, offset, limit, state.get("day", 0))
            if query is None:
                return None
            found = await find_shown_page(session, shape, partial(index.search_shown, query, cut))
        if not self._behind(state, found.extras["top_id"], found.extras["top_event"]):
            self._level_at = generation
        return found.count, found.results

    async def _generation_now(self) -> str | None:
        """The service's write generation now; None without one, or when it cannot be read
        or may not tell of every process's commits."""
        if self.generation is None:
            return None
        try:
            return await self.generation.current_everywhere()
        except Exception as exc:  # the maxima are read from the database instead
            logger.debug("write generation unavailable: %s", exc)
            return None

    @staticmethod
    def _behind(state: dict[str, Any], top_id: int | None, top_event: int | None) -> bool:
        return bool(
            (top_id or 0) > state.get("id", 0) or (top_event or 0) != state.get("outbox", 0)
        )

    async def _catch_up_briefly(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.catch_up()), FRESH_WAIT)

    async def rebuild(self) -> None:
        """Index every listing again from the database."""
        async with self._lock:
            index = self.index
            if index is not None:
                await self._run(index, rebuild=True)

    async def catch_up(self) -> None:
        """Bring the index up to the database (or build it); gives up, committing nothing, when
        the process is stopping."""
        async with self._lock:
            index = self.index
            if index is not None:
                with contextlib.suppress(_Stopped):
                    await self._run(index, rebuild=not index.built)

    async def _run(self, index: PrefixIndex, *, rebuild: bool) -> None:
        today = utcnow().date().toordinal()
        state: dict[str, Any] = {"id": 0, "outbox": 0} if rebuild else dict(index.state)
        self._recent_ids = set(state.pop("recent_ids", ()))
        self._recent_events = set(state.pop("recent_events", ()))
        async with self.database.session() as session:
            top_event, first_event = (
                await session.execute(select(func.max(_OUTBOX.id), func.min(_OUTBOX.id)))
            ).one()
            if not rebuild and _events_lost(state["outbox"], top_event, first_event):
                logger.warning("the outbox no longer holds events the index has not read")
                rebuild, state = True, {"id": 0, "outbox": 0}
            changed = 0
            if rebuild:
                self._recent_ids.clear()
                self._recent_events.clear()
                state["outbox"] = top_event or 0
                state["day"] = today
                await asyncio.to_thread(index.clear)
            elif state.get("day", 0) < today:
                # A new day: what expired yesterday leaves the index.
                await asyncio.to_thread(index.delete_where, "expiration_day", None, today - 1)
                state["day"] = today
                changed = 1
            try:
                changed += await self._apply_events(
                    session, index, state, top_event, replay=not rebuild
                )
                changed += await self._index_new(session, index, state)
            except BaseException:
                await asyncio.to_thread(index.rollback)
                raise
        state["recent_ids"] = sorted(self._recent_ids)
        state["recent_events"] = sorted(self._recent_events)
        if changed or rebuild or state != index.state:
            await asyncio.to_thread(index.commit, state)

    async def _apply_events(
        self,
        session: AsyncSession,
        index: PrefixIndex,
        state: dict[str, Any],
        top: int | None,
        *,
        replay: bool,
    ) -> int:
        """Read again the listings the events since the watermark name; an import's listings.
        Without `replay` (a rebuild, which reads every listing as it is now), the events up to
        the watermark are only noted as read."""
        if top is None:
            state["outbox"] = 0  # an empty outbox: SQLite may number new rows from 1 again
            self._recent_events.clear()
            return 0
        since = state["outbox"]
        statement = (
            select(_OUTBOX.id, _OUTBOX.routing_key, _OUTBOX.body)
            .where(_OUTBOX.id > since - MARGIN, _OUTBOX.routing_key.in_(_WATCHED))
            .order_by(_OUTBOX.id)
        )
        listings: set[int] = set()
        imported_since: list[datetime] = []
        for event_id, routing_key, body in await session.execute(statement):
            if event_id in self._recent_events:
                continue
            self._recent_events.add(event_id)
            if not replay and event_id <= since:
                continue
            payload = json.loads(body)["payload"]
            if routing_key in _REREAD:
                listings.add(int(payload["instrument_id"]))
            else:
                started = payload.get("started_at")
                imported_since.append(datetime.fromisoformat(started) if started else datetime.min)
        state["outbox"] = max(since, top)
        self._recent_events = {e for e in self._recent_events if e > state["outbox"] - MARGIN}
        changed = 0
        # A listing above the id watermark is read (once, as it is now) with the new ones.
        ordered = sorted(listing for listing in listings if listing <= state["id"])
        for start in range(0, len(ordered), BATCH):
            chunk = ordered[start : start + BATCH]
            statement = _documents(session).where(Instrument.id.in_(chunk))
            rows = (await session.execute(statement)).all()
            kept = [row for row in rows if not expired(row, state["day"])]
            found = {int(row.id) for row in kept}
            documents = [document(row) for row in kept]
            gone = [listing for listing in chunk if listing not in found]
            await asyncio.to_thread(_write, index, documents, gone)
            changed += len(chunk)
        if imported_since:
            oldest = min(imported_since)
            condition = Instrument.updated_at >= oldest if oldest != datetime.min else None
            changed += await self._scan(session, index, state, condition)
        return changed

    async def _index_new(
        self, session: AsyncSession, index: PrefixIndex, state: dict[str, Any]
    ) -> int:
        """Index the listings above the id watermark (and those of the last `MARGIN` below it
        not yet read)."""
        low = max(state["id"] - MARGIN, 0)
        indexed = state["id"]
        written = 0
        while True:
            self._check_stopping()
            rows = (
                await session.execute(
                    _documents(session)
                    .where(Instrument.id > low)
                    .order_by(Instrument.id)
                    .limit(BATCH)
                )
            ).all()
            if not rows:
                break
            low = int(rows[-1].id)
            fresh = [row for row in rows if int(row.id) not in self._recent_ids]
            cutoff = state["day"]
            again = [row for row in fresh if int(row.id) <= indexed]
            documents = [document(row) for row in again if not expired(row, cutoff)]
            gone = [int(row.id) for row in again if expired(row, cutoff)]
            new = [document(r) for r in fresh if int(r.id) > indexed and not expired(r, cutoff)]
            if fresh:
                await asyncio.to_thread(_write, index, documents, gone, new)
                written += len(fresh)
            state["id"] = max(state["id"], low)
            floor = state["id"] - MARGIN
            self._recent_ids.update(int(row.id) for row in fresh if int(row.id) > floor)
            self._recent_ids = {listing for listing in self._recent_ids if listing > floor}
        return written

    def _check_stopping(self) -> None:
        if self._stopping.is_set():
            raise _Stopped

    async def _scan(
        self, session: AsyncSession, index: PrefixIndex, state: dict[str, Any], condition: Any
    ) -> int:
        """Index again the listings up to the id watermark meeting `condition`."""
        low, high = 0, state["id"]
        written = 0
        while True:
            self._check_stopping()
            statement = _documents(session).where(Instrument.id > low, Instrument.id <= high)
            if condition is not None:
                statement = statement.where(condition)
            rows = (await session.execute(statement.order_by(Instrument.id).limit(BATCH))).all()
            if not rows:
                return written
            low = int(rows[-1].id)
            documents = [document(row) for row in rows if not expired(row, state["day"])]
            gone = [int(row.id) for row in rows if expired(row, state["day"])]
            await asyncio.to_thread(_write, index, documents, gone)
            written += len(rows)


def _documents(session: AsyncSession) -> Select[Any]:
    """The rows documents are made of (`listing_documents.indexed_columns`)."""
    return select(*indexed_columns(session.get_bind().dialect))


class _Stopped(Exception):
    """The process is stopping: a long catch-up gives up between batches (nothing committed)."""


def _write(
    index: PrefixIndex,
    documents: Sequence[IndexedDocument],
    gone: Sequence[int],
    new: Sequence[IndexedDocument] = (),
) -> None:
    """Replace `documents`, remove `gone`, add `new` (ids above the watermark: never indexed)."""
    index.delete(gone)
    index.add(documents)
    index.add(new, replace=False)


def _events_lost(seen: int, top: int | None, first: int | None) -> bool:
    """Whether events after `seen` may have been removed from the outbox unread (retention) or
    its numbering started again."""
    if top is None or first is None:
        return False
    # After an empty outbox the watermark is 0: whatever comes next is read, whatever its id.
    return top < seen or (seen > 0 and first > seen + 1)


_OUTBOX = outbox_table.c
