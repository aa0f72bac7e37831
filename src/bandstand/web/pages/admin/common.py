"""What the console's pages share: reading a paged list from the API, and a refusal's words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Query

from bandstand.web.api import ApiResponse
from bandstand.web.api import Query as ApiQuery
from bandstand.web.visit import Visit

PAGE_SIZE = 20
PageNumber = Annotated[int, Query(ge=1, le=100_000)]
SearchText = Annotated[str | None, Query(max_length=200)]


@dataclass(frozen=True)
class Listing:
    """One page of an API list as a console table shows it."""

    results: list[dict[str, Any]]
    page: int
    count: int | None
    has_previous: bool
    has_next: bool


async def listing(visit: Visit, path: str, page: int, query: ApiQuery | None = None) -> Listing:
    body = await visit.get(path, {**(query or {}), "page": page, "page_size": PAGE_SIZE})
    return Listing(
        results=list(body.get("results", [])),
        page=page,
        count=body.get("count"),
        has_previous=page > 1,
        has_next=bool(body.get("next")),
    )


def refusal(answer: ApiResponse) -> str:
    """The API's reason for a refusal, whichever of its error shapes it used."""
    body = answer.body
    if isinstance(body, dict) and "detail" not in body:
        for key in ("error", "message"):
            if isinstance(body.get(key), str):
                return str(body[key])
    return answer.detail()


def field_errors(answer: ApiResponse) -> dict[str, str]:
    """Errors by field; a refusal that names none is under "" (shown above the form)."""
    errors = answer.field_errors()
    if set(errors) == {""}:
        return {"": refusal(answer)}
    return errors
