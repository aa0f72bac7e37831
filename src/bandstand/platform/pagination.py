"""One page shape for every list: `{count, next, previous, results}`, by number or by cursor.

`?page=&page_size=` reads a page by its number (`OFFSET`); `?cursor=` reads the page a `next` or
`previous` link names by the sort key of the row it follows or precedes (`platform.keyset`), a
range of the ordering's index however deep into the list. The keys come from the list's own
ORDER BY, so a list declares its ordering once, where it builds its statement.

- `next` carries a cursor (after the page's last row) when the list can be paged by key, else
  the next page's number. On a numbered page `previous` is the page before by number; on a cursor
  page it is a cursor before the page's first row (a page read backwards from there can hold
  fewer rows than `page_size` when it reaches the start of the list; its own `previous` is then
  null). A cursor page that is empty (its rows were deleted) has neither.
- `count` comes from `platform.list_counts`: exact up to a bound, then kept per write
  generation; `"count_estimated": true` appears beside it only when it is the count kept before
  the latest write, answered while that write's recount runs.
- A page number past the end answers 404 "Invalid page."; a cursor that is not one of this list
  answers 400 naming the `cursor` field.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, ParamSpec, TypeVar, cast

from fastapi import Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import Select, Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.platform.errors import NotFound
from bandstand.platform.json_response import JSONShape
from bandstand.platform.json_rows import JsonArray, JsonRows, read_json
from bandstand.platform.keyset import AFTER, BEFORE, BadCursor, Ordering
from bandstand.platform.list_counts import Count, ListCounts, count_of, exact_count
from bandstand.platform.page_links import cursor_link, page_link
from bandstand.platform.page_statements import DEFERRED_JOIN_OFFSET, dialect_of, page_statement
from bandstand.platform.plain_reads import plain_rows
from bandstand.platform.ranged_trigrams import Span, ranged_page
from bandstand.platform.rows import field_dicts
from bandstand.platform.text_index import (
    FREQUENT,
    driven_by_index,
    for_page,
    plans_alike,
    searched_table,
)

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_OFFSET = 2**62
STATEMENTS_KEPT = 512
"""A list's statements kept built by `kept_statements`, per builder."""
P = ParamSpec("P")

__all__ = [
    "Page",
    "PageParams",
    "Pagination",
    "build_page",
    "count_of",
    "kept_statements",
    "page_shape",
    "paginate",
    "read_page",
]


class Page(BaseModel, Generic[T]):
    count: int
    count_estimated: bool = Field(
        False,
        exclude_if=lambda estimated: not estimated,
        description="Present (true) only when `count` is an estimate: the count before the "
        "latest write, answered while the list is counted again.",
    )
    next: str | None
    previous: str | None
    results: list[T]


def kept_statements(build: Callable[P, Select[Any]]) -> Callable[P, Select[Any]]:
    """`build` (a list's statement from its filters, hashable) with its statements kept built,
    the latest `STATEMENTS_KEPT` of them. Building a list's statement, with the cache key that
    SQLAlchemy and the kept counts derive from it (once per statement object), cost more than
    reading its page (about 0.2 ms for a signed-in song page)."""
    return cast(Callable[P, Select[Any]], functools.lru_cache(maxsize=STATEMENTS_KEPT)(build))


def page_shape(item: Any) -> JSONShape:
    """The writer of a list's `Page` of `item` from plain rows (`platform.json_response`): the
    page validated and written as JSON once, as FastAPI would for `response_model=Page[item]`."""
    return JSONShape(Page[item])


@dataclass(frozen=True)
class PageParams:
    page: int
    page_size: int
    cursor: str | None = None

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


async def page_params(
    page: Annotated[int, Query(ge=1, description="1-based page number")] = 1,
    page_size: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Items per page, at most {MAX_PAGE_SIZE}")
    ] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[
        str | None,
        Query(
            max_length=2000,
            description="Where the page starts, as given by a `next` or `previous` link "
            "(instead of `page`)",
        ),
    ] = None,
) -> PageParams:
    return PageParams(page=page, page_size=page_size, cursor=cursor or None)


Pagination = Annotated[PageParams, Depends(page_params)]


def build_page(
    request: Request, params: PageParams, count: int, results: Sequence[Any]
) -> dict[str, Any]:
    """The page body of a list paged by number only, with absolute `next`/`previous` links that
    keep the other query params."""
    if params.cursor is not None:
        raise BadCursor("this list is paged by page number only")
    last_page = max(1, math.ceil(count / params.page_size))
    if params.page > last_page and count > 0:
        raise NotFound("Invalid page.")
    return {
        "count": count,
        "next": page_link(request, params.page_size, params.page + 1)
        if params.page < last_page
        else None,
        "previous": page_link(request, params.page_size, params.page - 1)
        if params.page > 1
        else None,
        "results": list(results),
    }


async def paginate(
    session: AsyncSession,
    statement: Select[Any],
    params: PageParams,
    request: Request,
    *,
    transform: Callable[[Any], Any] | None = None,
    scalars: bool = True,
    counter: Callable[[], Awaitable[int]] | None = None,
    keep_count: bool = True,
    as_json: JsonRows | None = None,
) -> dict[str, Any]:
    """One page of `statement` (ordered, unpaged) and its count: `counter`'s, for a list that
    counts itself exactly without a scan (kept per write generation as well), else
    `platform.list_counts`'. `keep_count=False`: `counter` keeps its count itself.

    `as_json` (with `scalars=False`): the page's results are a `JsonArray` of its objects, which
    the database wrote (`platform.json_rows`), or, when the statement cannot be read so, dicts
    of the rows' fields for the model to validate."""
    dialect = dialect_of(session)
    ordering = Ordering.of(statement, dialect)
    cursor = None
    if params.cursor is not None:
        if ordering is None:
            raise BadCursor("this list is paged by page number only")
        cursor = ordering.decode(params.cursor)
    counts: ListCounts | None = getattr(request.app.state, "list_counts", None)
    if counter is not None:
        # Its own count, kept like the others until the service's next write.
        if counts is not None and keep_count:
            count = Count(int(await counts.value(session, "counted", statement, counter)))
        else:
            count = Count(await counter())
    elif counts is not None:
        count = await counts.count(session, statement)
    else:
        count = Count(await exact_count(session, statement))
    size = params.page_size
    next_link = previous_link = None
    if cursor is None:
        last_page = max(1, math.ceil(count.value / size))
        if count.value > 0 and params.page > last_page and not count.estimated:
            raise NotFound("Invalid page.")
        read = _PageRows([], 0, False, None, None)
        if params.offset < MAX_OFFSET and (params.offset < count.value or count.estimated):
            listed = driven_by_index(statement) if dialect == "sqlite" else None
            ranges = None
            if listed is None:
                # A deeper page reads its ids first (`page_statement`), with no ranges.
                wanted = params.offset + size + 1 if params.offset < DEFERRED_JOIN_OFFSET else None
                listed, ranges = await _for_page(session, statement, count, counts, wanted)
            paged, values = await page_statement(session, listed, params.offset, size + 1, counts)
            if ranges is not None:
                values = {**(values or {}), **ranges}
            once = plans_alike(listed)  # planned once by PostgreSQL (`platform.plan_modes`)
            read = await _page_rows(
                session, paged, values, size, ordering, scalars, as_json, planned_once=once
            )
        if not read.shown and params.page > 1 and count.value > 0:
            raise NotFound("Invalid page.")
        if read.more:
            next_link = (
                cursor_link(request, params.page_size, ordering.encode(AFTER, read.last))
                if ordering is not None and read.last is not None
                else page_link(request, params.page_size, params.page + 1)
            )
        if params.page > 1:
            previous_link = page_link(request, params.page_size, params.page - 1)
    else:
        assert ordering is not None
        seek = None
        if dialect == "sqlite" and driven_by_index(statement) is not None:
            # The cursor's bound becomes a range of the index (`driven_by_index`).
            seek = driven_by_index(ordering.seek(statement, cursor))
        backwards = cursor.direction == BEFORE
        ranges = None
        if seek is None:
            after = cursor.values[0] if not backwards and len(cursor.values) == 1 else None
            wanted = size + 1 if isinstance(after, int) else None
            listed, ranges = await _for_page(session, statement, count, counts, wanted, after)
            seek = ordering.seek(listed, cursor)
        read = await _page_rows(
            session,
            seek.limit(size + 1),
            ranges,
            size,
            ordering,
            scalars,
            as_json,
            backwards=backwards,
        )
        if read.shown:
            if (read.more or backwards) and read.last is not None:
                next_link = cursor_link(
                    request, params.page_size, ordering.encode(AFTER, read.last)
                )
            if (read.more or not backwards) and read.first is not None:
                previous_link = cursor_link(
                    request, params.page_size, ordering.encode(BEFORE, read.first)
                )
    page: dict[str, Any] = {"count": count.value}
    if count.estimated:
        page["count_estimated"] = True
    page["next"] = next_link
    page["previous"] = previous_link
    results = read.results
    if transform is not None and not isinstance(results, JsonArray):
        results = [transform(row) for row in results]
    page["results"] = results
    return page


async def _for_page(
    session: AsyncSession,
    statement: Select[Any],
    count: Count,
    counts: ListCounts | None,
    wanted: int | None = None,
    after: int | None = None,
) -> tuple[Select[Any], dict[str, Any] | None]:
    """`statement` to read a page of its `count` matches: asked of its index, walked along its
    order (`text_index.for_page`), or on PostgreSQL asked of its ranged index
    (`ranged_trigrams.ranged_page`), with the values of the parameters that form adds.
    `wanted`: the rows the page reads from the start of the list or from the id `after` (None:
    a form without parameters)."""
    postgres = dialect_of(session) == "postgresql"
    span = await _span_searched(session, statement, count, counts, postgres)
    listed = for_page(statement, count.value, span.ids if span is not None else None)
    if listed is statement or not postgres or wanted is None or span is None:
        return listed, None
    return ranged_page(statement, count.value, span, wanted, after) or (listed, None)


async def _span_searched(
    session: AsyncSession,
    statement: Select[Any],
    count: Count,
    counts: ListCounts | None,
    postgres: bool,
) -> Span | None:
    """The lowest and highest id of the table a search of `statement` looks in (kept like a
    count), when they decide how its page is read: about how many rows it holds, for a term of
    few matches (`text_index.for_page`), and on PostgreSQL where a frequent term's page is
    expected to end (`ranged_trigrams.ranged_page`)."""
    if counts is None or (count.value > FREQUENT and not postgres):
        return None
    searched = searched_table(statement)
    if searched is None:
        return None
    ends = _id_span(searched)
    kept = await counts.kept(session, "span", ends, lambda: _read_span(session, ends))
    return Span(*kept) if kept else None


async def _read_span(session: AsyncSession, ends: Select[Any]) -> list[int] | None:
    [row] = await plain_rows(session, ends)
    return None if row[0] is None else [int(row[0]), int(row[1])]


@functools.lru_cache(maxsize=STATEMENTS_KEPT)
def _id_span(table: Table) -> Select[Any]:
    """`min(id), max(id)` of `table`, one statement per table: its key, by which the values
    are kept, is computed once (a new statement for every search cost it about 60 µs of the
    loop)."""
    return select(func.min(table.c.id), func.max(table.c.id))


async def read_page(
    session: AsyncSession,
    statement: Select[Any],
    offset: int,
    limit: int,
    *,
    scalars: bool = True,
    counts: ListCounts | None = None,
) -> list[Any]:
    """`limit` rows of `statement` from `offset` on (`page_statement`)."""
    page, parameters = await page_statement(session, statement, offset, limit, counts)
    return await _fetch(session, page, parameters, scalars)


@dataclass(frozen=True)
class _PageRows:
    """A page's rows (a list, or a JSON array the database wrote), whether more rows follow,
    and the sort keys of its first and last rows (None when they are not known)."""

    results: list[Any] | JsonArray
    shown: int
    more: bool
    first: tuple[Any, ...] | None
    last: tuple[Any, ...] | None


async def _page_rows(
    session: AsyncSession,
    statement: Select[Any],
    parameters: Mapping[str, int] | None,
    size: int,
    ordering: Ordering | None,
    scalars: bool,
    as_json: JsonRows | None,
    *,
    backwards: bool = False,
    planned_once: bool = False,
) -> _PageRows:
    """The page `statement` reads (`size` rows and one more, to know whether more follow).
    `backwards`: it reads the page from its end. `planned_once`: as `json_rows.read_json`."""
    if as_json is not None and not scalars:
        keys = [key.column for key in ordering.keys] if ordering is not None else []
        read = await read_json(
            session,
            statement,
            parameters,
            as_json,
            size,
            keys,
            backwards=backwards,
            planned_once=planned_once,
        )
        if read is not None:
            shown = min(read.read, size)
            return _PageRows(read.results, shown, read.read > size, read.first, read.last)
    rows = await _fetch(session, statement, parameters, scalars)
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    first = last = None
    if rows and ordering is not None:
        first, last = ordering.values_of(rows[0]), ordering.values_of(rows[-1])
    results = field_dicts(rows) if as_json is not None and not scalars else rows
    return _PageRows(results, len(rows), more, first, last)


async def _fetch(
    session: AsyncSession,
    statement: Select[Any],
    parameters: Mapping[str, int] | None,
    scalars: bool,
) -> list[Any]:
    """ORM objects (`scalars`) or plain rows (`platform.plain_reads`)."""
    if scalars:
        return list((await session.execute(statement, parameters)).scalars().all())
    return await plain_rows(session, statement, parameters)
