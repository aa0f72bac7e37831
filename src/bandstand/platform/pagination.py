"""One page shape for every list: `?page=&page_size=` → `{count, next, previous, results}`."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.platform.errors import NotFound
from bandstand.platform.text_index import for_page

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class Page(BaseModel, Generic[T]):
    count: int
    next: str | None
    previous: str | None
    results: list[T]


@dataclass(frozen=True)
class PageParams:
    page: int
    page_size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


async def page_params(
    page: Annotated[int, Query(ge=1, description="1-based page number")] = 1,
    page_size: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Items per page, at most {MAX_PAGE_SIZE}")
    ] = DEFAULT_PAGE_SIZE,
) -> PageParams:
    return PageParams(page=page, page_size=page_size)


Pagination = Annotated[PageParams, Depends(page_params)]


def build_page(
    request: Request, params: PageParams, count: int, results: Sequence[Any]
) -> dict[str, Any]:
    """The page body with absolute `next`/`previous` links that keep the other query params."""
    last_page = max(1, math.ceil(count / params.page_size))
    if params.page > last_page and count > 0:
        raise NotFound("Invalid page.")

    def link(page: int) -> str:
        return str(request.url.include_query_params(page=page, page_size=params.page_size))

    return {
        "count": count,
        "next": link(params.page + 1) if params.page < last_page else None,
        "previous": link(params.page - 1) if params.page > 1 else None,
        "results": list(results),
    }


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


async def paginate(
    session: AsyncSession,
    statement: Select[Any],
    params: PageParams,
    request: Request,
    *,
    transform: Callable[[Any], Any] | None = None,
    scalars: bool = True,
) -> dict[str, Any]:
    """Run `statement` for one page plus one count query: two statements whatever the size
    (one when the page is past the end)."""
    count = int((await session.execute(count_of(statement))).scalar_one())
    rows: Sequence[Any] = []
    # Past the end there is nothing to read, and the offset of a huge page number would not even
    # fit the database's integer (a 500); build_page answers 404 for it.
    if params.offset < count:
        page_statement = for_page(statement.limit(params.page_size).offset(params.offset), count)
        result = await session.execute(page_statement)
        rows = result.scalars().all() if scalars else result.all()
    items = [transform(row) for row in rows] if transform else list(rows)
    return build_page(request, params, count, items)
