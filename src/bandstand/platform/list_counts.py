"""The count of a list, without counting a million rows on every request.

Every count is kept in the platform cache, per statement (its SQL and parameters) and service,
with the write generation it was counted at (`platform.write_generation`): while no write of the
service has committed since, the kept count is exact and answered as it is, without a statement.
A list is counted again exactly up to `EXACT_UP_TO` rows (a `count(*)` that stops there); a
longer one is counted whole. It is
answered as exact for `settings.list_count_cache_seconds` at most, which bounds how long a write
the service cannot see (a command-line import into a server whose cache is in memory) goes unseen.
The first request after a write, or after that time, counts again; while it does, the other
requests of the same process asking for that list are answered the count kept before, marked as
an estimate (`count_estimated` beside `count`) instead of waiting (so a count is kept twice that
time, the second half only for this). The first count of a list, with nothing kept, is computed
by one request per process while the others wait for it.

The same keeping serves a list's anchors (`pagination`'s deep pages by number): the sort key of
every `ANCHOR_EVERY`-th row, found in one scan, valid for the generation they were read at only.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.platform.plain_reads import plain_scalar
from bandstand.platform.write_generation import WriteGeneration

logger = logging.getLogger(__name__)

EXACT_UP_TO = 1000
FILL_WAIT = 30.0


def _now() -> float:
    return time.time()


@dataclass(frozen=True)
class Count:
    value: int
    estimated: bool = False


def count_of(statement: Select[Any]) -> Select[int]:
    """`SELECT count(*)` over the rows of `statement`.

    Counted in place when that is the same thing: SQLite would otherwise materialise every
    selected column of a subquery just to count its rows. Statements that group, deduplicate or
    limit are counted over a subquery.
    """
    if (
        statement._group_by_clauses
        or statement._distinct
        or statement._having_criteria
        or statement._limit_clause is not None
        or statement._offset_clause is not None
    ):
        return select(func.count()).select_from(statement.order_by(None).subquery())
    counted: Select[int] = statement.with_only_columns(
        func.count(), maintain_column_froms=True
    ).order_by(None)
    return counted


_ROWS_COUNTED: weakref.WeakKeyDictionary[Select[Any], Select[Any]] = weakref.WeakKeyDictionary()


def rows_counted(statement: Select[Any]) -> Select[Any]:
    """What a count of `statement` counts: its rows without their columns or order. A list's
    count is kept under this, so lists that differ only by a column (the caller's own
    `liked_by_me`, say) share one. Built once per statement (a service may keep its statements
    built)."""
    rows = _ROWS_COUNTED.get(statement)
    if rows is None:
        if statement._group_by_clauses or statement._distinct or statement._having_criteria:
            rows = statement.order_by(None)
        else:
            rows = statement.with_only_columns(literal(1), maintain_column_froms=True)
            rows = rows.order_by(None)
        _ROWS_COUNTED[statement] = rows
    return rows


def bounded_count_of(statement: Select[Any], bound: int) -> Select[int]:
    """The number of rows of `statement`, counting no further than `bound + 1`."""
    rows = rows_counted(statement).limit(bound + 1)
    return select(func.count()).select_from(rows.subquery())


async def exact_count(session: AsyncSession, statement: Select[Any]) -> int:
    return int(await plain_scalar(session, count_of(statement)))


_SQL_OF: dict[Any, str] = {}
"""The digest of each shape's SQL."""
_SQL_KEPT = 1024


_KEYS: weakref.WeakKeyDictionary[Select[Any], tuple[str, str]] = weakref.WeakKeyDictionary()


def statement_key(session: AsyncSession, statement: Select[Any]) -> str:
    """A digest of `statement` as the engine runs it: its SQL and its parameters.

    The SQL is compiled once per shape of statement (SQLAlchemy's own cache key, the parameters
    apart): compiling on every request cost more than a page's queries. A statement's digest is
    computed once (statements do not change)."""
    dialect = session.bind.dialect.name if session.bind is not None else ""
    kept = _KEYS.get(statement)
    if kept is not None and kept[0] == dialect:
        return kept[1]
    key = _statement_key(session, statement)
    _KEYS[statement] = (dialect, key)
    return key


def _statement_key(session: AsyncSession, statement: Select[Any]) -> str:
    bind = session.bind
    cache_key = statement._generate_cache_key()
    if cache_key is None:  # a statement SQLAlchemy cannot cache: compiled every time
        compiled = statement.compile(bind) if bind is not None else statement.compile()
        sql, values = _digest(str(compiled)), sorted(compiled.params.items())
    else:
        shape = (bind.dialect.name if bind is not None else "", cache_key.key)
        sql = _SQL_OF.get(shape, "")
        if not sql:
            sql = _digest(str(statement.compile(bind) if bind is not None else statement.compile()))
            if len(_SQL_OF) >= _SQL_KEPT:
                _SQL_OF.clear()
            _SQL_OF[shape] = sql
        values = [param.effective_value for param in cache_key.bindparams]
    return _digest(json.dumps([sql, values], default=str))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class ListCounts:
    """Kept counts and anchors of one service's lists, for `ttl` seconds at most (0 turns
    keeping off: every list is then counted every time)."""

    def __init__(self, generation: WriteGeneration, ttl: float) -> None:
        self.generation = generation
        self.cache = generation.cache
        self.ttl = ttl
        self.keep = ttl > 0
        self.exact_up_to = EXACT_UP_TO
        self._filling: dict[str, asyncio.Event] = {}

    async def count(self, session: AsyncSession, statement: Select[Any]) -> Count:
        if not self.keep:
            return Count(await exact_count(session, statement))
        key = f"{self.generation.key}:count:{statement_key(session, rows_counted(statement))}"
        generation, stored = await self._kept(key)
        if stored is not None and self._current(stored, generation):
            return Count(int(stored["v"]))
        # One request recounts, short lists too: 32 signed-in searches at once, each counting
        # its 1,000 matches when the kept count ran out, held the rest for up to 300 ms.
        value, estimated = await self._fill(
            key, generation, stored, lambda: self._counted(session, statement)
        )
        return Count(int(value), estimated)

    async def _counted(self, session: AsyncSession, statement: Select[Any]) -> int:
        """The exact count: by a count that stops past `exact_up_to`, then whole if it did."""
        bounded = bounded_count_of(statement, self.exact_up_to)
        counted = int(await plain_scalar(session, bounded))
        if counted <= self.exact_up_to:
            return counted
        return await exact_count(session, statement)

    async def kept(
        self,
        session: AsyncSession,
        kind: str,
        statement: Select[Any],
        compute: Callable[[], Awaitable[Any]],
    ) -> Any | None:
        """The value of `compute` for `statement` at the current generation (computed now if it
        is not kept), or None when keeping is off or only an older one is at hand."""
        if not self.keep:
            return None
        key = f"{self.generation.key}:{kind}:{statement_key(session, statement)}"
        generation, stored = await self._kept(key)
        if stored is not None and self._current(stored, generation):
            return stored["v"]
        value, stale = await self._fill(key, generation, stored, compute)
        return None if stale else value

    async def value(
        self,
        session: AsyncSession,
        kind: str,
        statement: Select[Any],
        compute: Callable[[], Awaitable[Any]],
    ) -> Any:
        """`compute`'s value for `statement`: the kept one when it is current, else computed
        (and kept) now."""
        kept = await self.kept(session, kind, statement, compute)
        return kept if kept is not None else await compute()

    async def _kept(self, key: str) -> tuple[str, dict[str, Any] | None]:
        generation, raw = await self.generation.current_and(key)
        return generation, json.loads(raw) if raw is not None else None

    def _current(self, stored: dict[str, Any], generation: str) -> bool:
        """Whether `stored` may be answered as it is: counted at `generation`, in time."""
        return bool(stored["g"] == generation and _now() - stored.get("at", 0.0) <= self.ttl)

    async def _keep(self, key: str, generation: str, value: Any) -> None:
        kept = {"g": generation, "v": value, "at": _now()}
        try:
            await self.cache.set(key, json.dumps(kept), ttl=2 * self.ttl)
        except Exception as exc:
            logger.warning("list count %s not kept, cache unavailable: %s", key, exc)

    async def _fill(
        self,
        key: str,
        generation: str,
        stored: dict[str, Any] | None,
        compute: Callable[[], Awaitable[Any]],
    ) -> tuple[Any, bool]:
        """The value computed afresh and kept, and False; or, while another request of this
        process computes it, the older value kept and True (or, with none, the new one once it
        is there)."""
        filling = self._filling.get(key)
        if filling is not None:
            if stored is not None:
                return stored["v"], True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(filling.wait(), FILL_WAIT)
            _, refreshed = await self._kept(key)
            if refreshed is not None:
                return refreshed["v"], refreshed["g"] != generation
        event = self._filling[key] = asyncio.Event()
        try:
            value = await compute()
            await self._keep(key, generation, value)
            return value, False
        finally:
            event.set()
            if self._filling.get(key) is event:
                del self._filling[key]
