"""What the list pages share: page numbers, and a refused filter told beside its field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query

from bandstand.web.api import ApiResponse
from bandstand.web.visit import Visit

PageNumber = Annotated[int, Query(ge=1, le=100_000, description="Page number")]


@dataclass(frozen=True)
class ListPage:
    """One page of an API list as a page shows it."""

    results: list[dict[str, Any]]
    count: int
    page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @classmethod
    def of(cls, body: dict[str, Any], page: int) -> ListPage:
        return cls(
            results=list(body.get("results", [])),
            count=int(body.get("count", 0)),
            page=page,
            has_next=body.get("next") is not None,
        )

    @classmethod
    def empty(cls, page: int = 1) -> ListPage:
        return cls(results=[], count=0, page=page, has_next=False)


def filter_errors(answer: ApiResponse, fields: tuple[str, ...]) -> dict[str, str]:
    """The API's refusal of a list's filters, by field. A refusal written as text ("min_price:
    must not be greater than max_price") is put beside the field it names."""
    errors = answer.field_errors()
    general = errors.pop("", None)
    if general is not None:
        name, _, message = general.partition(": ")
        if name in fields and message:
            errors.setdefault(name, message)
        else:
            errors[""] = general
    return errors


def page_url(path: str, values: Mapping[str, object], **changes: object) -> str:
    """A list page's address for these filters with some changed, leaving out the empty ones
    (and page 1)."""
    merged = {**values, **changes}
    kept = {k: v for k, v in merged.items() if v not in (None, "") and (k, v) != ("page", 1)}
    return f"{path}?{urlencode(kept)}" if kept else path


def is_htmx(visit: Visit) -> bool:
    return visit.request.headers.get("hx-request") == "true"


def local_url(url: object) -> str | None:
    """A picture's URL when it is served here: the pages' policy loads no image from elsewhere."""
    if isinstance(url, str) and url.startswith("/") and not url.startswith("//"):
        return url
    return None


def refused_filters(answer: ApiResponse) -> bool:
    """A 400/422 of a list: the visitor's filters are wrong (the page says which, as a 400)."""
    return answer.status in (400, 422)


def moment(value: str | None) -> str:
    """An API time (ISO 8601, UTC) as people read it: "Fri 22 Jan 2027, 20:30 UTC"."""
    if not value:
        return ""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return parsed.astimezone(UTC).strftime("%a %-d %b %Y, %H:%M UTC")


def day(value: str | None) -> str:
    """An API date or time as its day: "22 Jan 2027"."""
    if not value:
        return ""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return parsed.strftime("%-d %b %Y")


TIMES: dict[str, Any] = {"moment": moment, "day": day}
"""The time formats, for a page's template context."""
