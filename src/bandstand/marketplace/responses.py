"""The listing pages written to JSON in one pass.

A list route returns its page as a `Response` it has serialised itself: the page (plain rows or
ORM objects alike, read by attribute) is validated once against its documented model and dumped
by the same adapter FastAPI would use for the route's `response_model`, so the bytes are the
same as FastAPI's, without a Pydantic model built per listing and the whole page validated again.
A plain row is read as a mapping of its columns (faster than by attribute).
"""

from __future__ import annotations

from typing import Any

from fastapi import Response
from pydantic import TypeAdapter

from bandstand.marketplace.schemas import InstrumentRead, LegacyPage
from bandstand.platform.pagination import Page

LISTING_PAGE: TypeAdapter[Page[InstrumentRead]] = TypeAdapter(Page[InstrumentRead])
LEGACY_PAGE: TypeAdapter[LegacyPage] = TypeAdapter(LegacyPage)


def json_response(adapter: TypeAdapter[Any], content: dict[str, Any]) -> Response:
    """`content`, a page whose `results` are plain rows or objects, validated by `adapter` as a
    JSON response."""
    results = [
        dict(zip(r._fields, r, strict=True)) if hasattr(r, "_fields") else r
        for r in content["results"]
    ]
    value = adapter.validate_python({**content, "results": results}, from_attributes=True)
    return Response(adapter.dump_json(value), media_type="application/json")
