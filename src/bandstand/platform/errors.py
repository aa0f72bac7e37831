"""The one error hierarchy of Bandstand, and its mapping to JSON responses.

Every error body is JSON with `detail`. Routes inherited from systems that used another key
(`error`, `message`, `Message`) declare it with `legacy_errors(...)`; the same text is then sent
under that key beside `detail`, so one body satisfies both kinds of client.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger("bandstand.errors")
COMMIT_DESPITE_ERROR = "bandstand_commit_despite_error"


class BandstandError(Exception):
    """Base of every error a service raises on purpose."""

    status_code = 500
    default_detail = "Internal server error"
    keeps_changes = False
    """True when the request's transaction must commit although this error answers it."""

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.detail = detail or self.default_detail
        self.headers = headers or {}
        self.extra = extra or {}
        super().__init__(self.detail)


class BadRequest(BandstandError):
    status_code = 400
    default_detail = "Bad request"


class Unauthorized(BandstandError):
    status_code = 401
    default_detail = "Not authenticated"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.headers.setdefault("WWW-Authenticate", "Bearer")


class Forbidden(BandstandError):
    status_code = 403
    default_detail = "Insufficient permissions"


class NotFound(BandstandError):
    status_code = 404
    default_detail = "Not found"


class Conflict(BandstandError):
    status_code = 409
    default_detail = "Conflict"


class PayloadTooLarge(BandstandError):
    status_code = 413
    default_detail = "Request body too large"


class RateLimited(BandstandError):
    status_code = 429
    default_detail = "Too many requests"

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})
        self.retry_after = retry_after


class ServiceUnavailable(BandstandError):
    status_code = 503
    default_detail = "Service unavailable"


class ValidationErrorItem(BaseModel):
    """One refused field: its error type, where it is (`["body", "price"]`) and why."""

    type: str
    loc: list[str | int]
    msg: str


class ErrorBody(BaseModel):
    """Every error answer. `detail` is a text, or the list of refused fields of an invalid
    request. Inherited routes repeat the text under their original key (`error`, `message` or
    `Message`), and a few add their own keys (a refused field's name with its messages)."""

    model_config = ConfigDict(extra="allow")

    detail: str | list[ValidationErrorItem]
    error: str | None = None
    message: str | None = None
    Message: str | None = None


ERRORS: tuple[type[BandstandError], ...] = (
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    PayloadTooLarge,
    RateLimited,
    ServiceUnavailable,
)
"""The errors any route may answer with, documented on every route (see `error_responses`)."""

_DESCRIPTIONS: dict[int, str] = {
    400: "Malformed or invalid request (inherited routes also answer invalid fields with 400)",
    401: "Missing, invalid, expired or revoked token",
    403: "The caller's role does not allow this",
    404: "Not found",
    409: "Conflicts with what is stored",
    413: "Request body too large",
    422: "A field is missing or invalid",
    429: "Too many requests; `Retry-After` says when to try again",
    503: "A database, broker or cache is unreachable, or the service is saturated",
}
_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "string"}}
}


def error_responses() -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses for every error status a route may send, all with `ErrorBody`."""
    statuses = sorted({error.status_code for error in ERRORS} | {422})
    responses: dict[int | str, dict[str, Any]] = {}
    for status_code in statuses:
        response: dict[str, Any] = {
            "model": ErrorBody,
            "description": _DESCRIPTIONS.get(status_code, "Error"),
        }
        if status_code in (429, 503):
            response["headers"] = _RETRY_AFTER
        responses[status_code] = response
    return responses


ERROR_RESPONSES = error_responses()


@dataclass(frozen=True)
class LegacyErrorStyle:
    key: str | None
    validation_status: int


F = TypeVar("F", bound=Callable[..., Any])


def legacy_errors(key: str | None = None, *, validation_status: int = 422) -> Callable[[F], F]:
    """Mark an inherited endpoint: errors repeat their text under `key`, and validation
    errors answer `validation_status` (the original systems used 400)."""

    def mark(endpoint: F) -> F:
        endpoint.__dict__["bandstand_error_style"] = LegacyErrorStyle(key, validation_status)
        return endpoint

    return mark


def _style(request: Request) -> LegacyErrorStyle | None:
    endpoint = request.scope.get("endpoint")
    style = getattr(endpoint, "bandstand_error_style", None)
    return style if isinstance(style, LegacyErrorStyle) else None


def error_response(
    request: Request,
    status_code: int,
    detail: Any,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"detail": detail}
    style = _style(request)
    if style is not None and style.key and isinstance(detail, str):
        body[style.key] = detail
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status_code, headers=headers)


def is_unavailable(exc: BaseException) -> bool:
    """True when `exc` means a database or server could not be reached."""
    if isinstance(exc, IntegrityError):
        return False
    if isinstance(exc, OperationalError | PoolTimeoutError | ConnectionError | TimeoutError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, OSError):
        return True
    name = type(exc).__name__
    return name in {"CannotConnectNowError", "ConnectionDoesNotExistError", "InterfaceError"}


async def _bandstand_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BandstandError)
    if exc.keeps_changes:
        request.scope.setdefault("state", {})[COMMIT_DESPITE_ERROR] = True
    return error_response(request, exc.status_code, exc.detail, exc.headers, exc.extra)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return error_response(request, exc.status_code, exc.detail, dict(exc.headers or {}))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {key: value for key, value in error.items() if key in {"type", "loc", "msg"}}
        for error in exc.errors()
    ]
    style = _style(request)
    status_code = style.validation_status if style else 422
    body: dict[str, Any] = {"detail": errors}
    if style is not None and style.key:
        body[style.key] = "; ".join(_describe(error) for error in errors)
    return JSONResponse(body, status_code=status_code)


def _describe(error: dict[str, Any]) -> str:
    location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
    field = ".".join(location) or "body"
    return f"{field}: {error.get('msg', 'invalid')}"


async def _integrity_error(request: Request, exc: Exception) -> JSONResponse:
    logger.warning("integrity error reached the edge: %s", exc)
    return error_response(request, 409, "Conflicts with an existing record")


UNAVAILABLE_DETAIL = "Database unavailable, try again shortly"


async def _unavailable_error(request: Request, exc: Exception) -> JSONResponse:
    if is_unavailable(exc):
        logger.warning("dependency unavailable: %s", exc)
        return error_response(request, 503, UNAVAILABLE_DETAIL)
    logger.error("database error", exc_info=exc)
    return error_response(request, 500, "Internal server error")


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.error("unhandled error", exc_info=exc)
    return error_response(request, 500, "Internal server error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(BandstandError, _bandstand_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    for unavailable in (DBAPIError, PoolTimeoutError, OSError):
        app.add_exception_handler(unavailable, _unavailable_error)
    app.add_exception_handler(Exception, _unexpected_error)
