"""The platform's HTTP API as the pages call it: every rule and event of the services applies.

The composition root hands the web an ASGI app that answers the API: in embedded mode the
in-process gateway (no network hop), in distributed mode a gateway proxying over HTTP to each
service's URL, run inside the web process. Either way a page's call is an HTTP request to a
service, never a look into its database."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.types import ASGIApp, Message

from bandstand.platform.asgi import Lifespan
from bandstand.platform.observability import request_id_var

QueryValue = str | int | float | bool | None
Query = Mapping[str, QueryValue | Sequence[QueryValue]]


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: Any
    headers: Mapping[str, str]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def detail(self) -> str:
        """The error's text as the service gave it (FastAPI's validation list made readable)."""
        detail = self.body.get("detail") if isinstance(self.body, dict) else None
        if isinstance(detail, list):
            return "; ".join(_validation_message(item) for item in detail)
        if isinstance(detail, str):
            return detail
        return f"The request failed ({self.status})."

    def field_errors(self) -> dict[str, str]:
        """Validation errors by field name (the last part of each error's location); a refusal
        that names no field is under "" (shown above the form)."""
        detail = self.body.get("detail") if isinstance(self.body, dict) else None
        if not isinstance(detail, list):
            return {"": self.detail()}
        errors: dict[str, str] = {}
        for item in detail:
            location = item.get("loc", ()) if isinstance(item, dict) else ()
            fields = [str(part) for part in location if part not in ("body", "query", "path")]
            name = fields[-1] if fields else ""
            message = str(item.get("msg", "is not valid")) if isinstance(item, dict) else str(item)
            errors.setdefault(name, message.removeprefix("Value error, "))
        return errors


def _validation_message(item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    where = [str(part) for part in item.get("loc", ()) if part not in ("body", "query", "path")]
    message = str(item.get("msg", "is not valid"))
    return f"{'.'.join(where)}: {message}" if where else message


def query_string(query: Query | None) -> str:
    if not query:
        return ""
    pairs: list[tuple[str, str]] = []
    for key, value in query.items():
        values = value if isinstance(value, list | tuple) else [value]
        for one in values:
            if one is None or one == "":
                continue
            pairs.append((key, str(one).lower() if isinstance(one, bool) else str(one)))
    return urlencode(pairs)


class PlatformApi:
    """Calls the platform's API in-process through the ASGI app it was given."""

    def __init__(self, app: ASGIApp | None = None, *, run_lifespan: bool = False) -> None:
        self._app = app
        self.run_lifespan = run_lifespan
        self._lifespan: Lifespan | None = None

    def bind(self, app: ASGIApp, *, run_lifespan: bool) -> None:
        """Points the pages at the platform (the composition root does, once it is built)."""
        self._app = app
        self.run_lifespan = run_lifespan

    @property
    def app(self) -> ASGIApp:
        if self._app is None:
            raise RuntimeError("the web service was not given the platform's API")
        return self._app

    async def start(self) -> None:
        """Starts the app's lifespan when the web owns it (distributed mode)."""
        if self.run_lifespan and self._lifespan is None:
            self._lifespan = Lifespan(self.app)
            await self._lifespan.startup()

    async def stop(self) -> None:
        if self._lifespan is not None:
            lifespan, self._lifespan = self._lifespan, None
            await lifespan.shutdown()

    async def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        query: Query | None = None,
        json_body: Any = None,
        body: bytes | None = None,
        content_type: str | None = None,
        client: tuple[str, int] | None = None,
    ) -> ApiResponse:
        headers: list[tuple[bytes, bytes]] = [(b"accept", b"application/json")]
        payload = b""
        if json_body is not None:
            payload = json.dumps(json_body).encode()
            headers.append((b"content-type", b"application/json"))
        elif body is not None:
            payload = body
            headers.append((b"content-type", (content_type or "application/octet-stream").encode()))
        if payload:
            headers.append((b"content-length", str(len(payload)).encode()))
        if token:
            headers.append((b"authorization", f"Bearer {token}".encode()))
        request_id = request_id_var.get()
        if request_id:
            headers.append((b"x-request-id", request_id.encode()))
        raw_query = query_string(query)
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": raw_query.encode(),
            "headers": headers,
            "client": client or ("127.0.0.1", 0),
            "server": ("127.0.0.1", 80),
        }
        answered = asyncio.Event()
        sent = False
        status = 500
        response_headers: dict[str, str] = {}
        chunks: list[bytes] = []

        async def receive() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": payload, "more_body": False}
            await answered.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                for key, value in message.get("headers", ()):
                    response_headers[key.decode("latin-1").lower()] = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    answered.set()

        try:
            await self.app(scope, receive, send)
        finally:
            answered.set()
        raw = b"".join(chunks)
        parsed: Any = None
        if raw and response_headers.get("content-type", "").startswith("application/json"):
            with contextlib.suppress(ValueError):
                parsed = json.loads(raw)
        return ApiResponse(status, parsed, response_headers)
