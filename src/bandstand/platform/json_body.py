"""Request bodies that an inherited route reads by hand.

Some originals answered a missing or empty body with their own words, which FastAPI's body
parsing cannot say; their routes read the JSON themselves with `json_object`, validate it with
`validated` (a field error is then the kernel's usual one, naming the field) and document the
body with `body_schema`.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from bandstand.platform.errors import BadRequest

M = TypeVar("M", bound=BaseModel)


async def json_object(request: Request, not_an_object: str) -> dict[str, Any] | None:
    """The body as a JSON object; None when there is no body; 400 with `not_an_object` when
    it is not JSON or not an object."""
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise BadRequest(not_an_object) from exc
    if not isinstance(document, dict):
        raise BadRequest(not_an_object)
    return document


def validated(model: type[M], document: dict[str, Any]) -> M:
    """`document` as `model`; a field error answers as a validation error naming the field."""
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        raise RequestValidationError(errors) from exc


def body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI request body of a route that reads `model` by hand (`openapi_extra=`)."""
    schema = {"schema": model.model_json_schema()}
    return {"requestBody": {"content": {"application/json": schema}}}
