"""The statement that reads one page of a list by its number: the list's own statement with its
limit and offset as parameters (built once per statement), and deep in a list, where an offset
would have the database read every row before the page, one that starts nearer to it.

- From `DEFERRED_JOIN_OFFSET` on, the page's ids are read first from the ordering's index alone,
  then only the page's rows (a deferred join).
- From `ANCHOR_EVERY` on, where the list keeps them (`platform.list_counts`), the page starts
  from the nearest anchor: the sort keys of every `ANCHOR_EVERY`-th row, found in one scan of the
  keys and valid for the write generation they were read at.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Integer, Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.platform.keyset import AFTER, Ordering
from bandstand.platform.list_counts import ListCounts
from bandstand.platform.plain_reads import plain_rows

DEFERRED_JOIN_OFFSET = 200
"""From this offset a numbered page reads its ids from the ordering's index alone first."""
ANCHOR_EVERY = 5000
"""From this offset a numbered page starts from the nearest anchor, where the list keeps them."""


async def page_statement(
    session: AsyncSession,
    statement: Select[Any],
    offset: int,
    limit: int,
    counts: ListCounts | None = None,
) -> tuple[Select[Any], Mapping[str, int] | None]:
    """`statement` reading its `limit` rows from `offset` on, and the values of its parameters.

    Deep in a list paged by key, the rows are found from the nearest anchor before `offset`
    (`ANCHOR_EVERY` rows apart, kept per write generation by `counts`): a range read of at
    most that many entries of the ordering's index. Without anchors for the current generation
    the page's ids are read first, from the ordering's index alone, and then only the page's
    rows (a deferred join)."""
    ordering = Ordering.of(statement, dialect_of(session))
    if ordering is None or offset < DEFERRED_JOIN_OFFSET:
        return _limited(statement), {"page_limit": limit, "page_offset": offset}
    if counts is not None and offset >= ANCHOR_EVERY:
        anchors = await counts.kept(
            session,
            f"anchors{ANCHOR_EVERY}",
            keys_listed(statement, ordering),
            lambda: _anchors(session, statement, ordering),
        )
        passed = min(offset // ANCHOR_EVERY, len(anchors)) if anchors is not None else 0
        if anchors and passed:
            statement = ordering.seek(statement, ordering.decode(anchors[passed - 1]))
            offset -= passed * ANCHOR_EVERY
            if offset < DEFERRED_JOIN_OFFSET:
                return statement.limit(limit).offset(offset), None
    unique = ordering.keys[-1].column
    ids = statement.with_only_columns(unique, maintain_column_froms=True)
    ids = ids.limit(limit).offset(offset).correlate(None)
    return statement.where(unique.in_(ids.scalar_subquery())), None


_LIMITED: weakref.WeakKeyDictionary[Select[Any], Select[Any]] = weakref.WeakKeyDictionary()


def _limited(statement: Select[Any]) -> Select[Any]:
    """`statement` limited by the parameters `page_limit` and `page_offset`, built once per
    statement: a list's kept statement is read with SQLAlchemy's work (its cache key, its
    plan) done once, where `limit(n)` would build a new statement every request."""
    limited = _LIMITED.get(statement)
    if limited is None:
        limited = _LIMITED[statement] = statement.limit(
            bindparam("page_limit", type_=Integer)
        ).offset(bindparam("page_offset", type_=Integer))
    return limited


_KEYS_LISTED: weakref.WeakKeyDictionary[Select[Any], Select[Any]] = weakref.WeakKeyDictionary()


def keys_listed(statement: Select[Any], ordering: Ordering) -> Select[Any]:
    """`statement` with its sort keys as its only columns: what its anchors are kept under, so
    lists that differ only by a column (a viewer's own) share them. Built once per statement."""
    keys = _KEYS_LISTED.get(statement)
    if keys is None:
        columns = [key.column for key in ordering.keys]
        keys = _KEYS_LISTED[statement] = statement.with_only_columns(
            *columns, maintain_column_froms=True
        )
    return keys


async def _anchors(session: AsyncSession, statement: Select[Any], ordering: Ordering) -> list[str]:
    """A cursor after every `ANCHOR_EVERY`-th row of the list, in one scan of its keys."""
    keys = [key.column.label(f"k{n}") for n, key in enumerate(ordering.keys)]
    position = func.row_number().over(order_by=[key.order() for key in ordering.keys])
    numbered = (
        statement.with_only_columns(*keys, position.label("position"), maintain_column_froms=True)
        .order_by(None)
        .subquery()
    )
    every = (
        select(*(numbered.c[f"k{n}"] for n in range(len(keys))))
        .where(numbered.c.position % ANCHOR_EVERY == 0)
        .order_by(numbered.c.position)
    )
    return [ordering.encode(AFTER, tuple(row)) for row in await plain_rows(session, every)]


def dialect_of(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else ""
