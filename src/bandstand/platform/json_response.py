"""A list's body validated and written as JSON in one pass over plain rows.

A route that returns models (or dicts) has FastAPI validate them against its `response_model`
and then write them; building a Pydantic model per row first doubles that. A `JSONShape` is the
route's response model as one `TypeAdapter`: it takes the body with plain dicts or rows in it,
validates them once and writes the JSON in the same call, as FastAPI would have written it
(fields by alias, in the model's order). The route keeps its `response_model` for the documented
schema and returns the `Response` this gives.
"""

from __future__ import annotations

from typing import Any

from fastapi import Response
from pydantic import TypeAdapter

from bandstand.platform.json_pages import page_response
from bandstand.platform.json_rows import JsonArray


class JSONShape:
    def __init__(self, shape: Any) -> None:
        self._adapter: TypeAdapter[Any] = TypeAdapter(shape)

    def response(self, content: Any, *, status_code: int = 200) -> Response:
        """`content` as JSON; a list's page whose results the database wrote as JSON
        (`platform.json_rows`) is written around them."""
        if isinstance(content, dict) and isinstance(content.get("results"), JsonArray):
            response = page_response(content, content["results"])
            response.status_code = status_code
            return response
        body = self._adapter.dump_json(self._adapter.validate_python(content), by_alias=True)
        return Response(body, status_code=status_code, media_type="application/json")
