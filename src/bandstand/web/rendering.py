"""Jinja2 templates and what every page is given: the visitor, the CSRF token, a message."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from itsdangerous import BadSignature, URLSafeSerializer
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

HERE = Path(__file__).parent
STATIC = HERE / "static"
FLASH_COOKIE = "bandstand_flash"


@cache
def asset_version(name: str) -> str:
    """A short hash of a vendored asset's content, so its URL changes when it does."""
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]


def static_url(name: str) -> str:
    return f"/static/{name}?v={asset_version(name)}"


def with_query(request: Request, **changes: object) -> str:
    """This page's URL with some query parameters changed (None or "" removes one)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    query = urlencode(params)
    return f"{request.url.path}?{query}" if query else request.url.path


def make_environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(("html", "svg")),
        trim_blocks=True,
        lstrip_blocks=True,
        enable_async=False,
    )
    environment.globals["static"] = static_url
    environment.globals["with_query"] = with_query
    return environment


class Flash:
    """A one-time message shown on the next page (after a form's redirect), signed."""

    def __init__(self, secret: str) -> None:
        self._signer = URLSafeSerializer(secret, salt="bandstand-flash")

    def set(self, response: Response, text: str, kind: str = "success") -> None:
        value = self._signer.dumps({"text": text, "kind": kind})
        response.set_cookie(FLASH_COOKIE, value, max_age=60, httponly=True, samesite="lax")

    def take(self, request: Request) -> dict[str, str] | None:
        raw = request.cookies.get(FLASH_COOKIE)
        if not raw:
            return None
        try:
            value = self._signer.loads(raw)
        except BadSignature:
            return None
        return value if isinstance(value, dict) else None


class Renderer:
    def __init__(self, flash: Flash) -> None:
        self.environment = make_environment()
        self.flash = flash

    def render(
        self,
        request: Request,
        template: str,
        context: dict[str, Any],
        *,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> HTMLResponse:
        message = self.flash.take(request)
        csrf = request.scope.get("csrftoken")
        values = {
            "request": request,
            "csrf_token": csrf() if csrf else "",
            "flash": message,
            "htmx": request.headers.get("hx-request") == "true",
            **context,
        }
        html = self.environment.get_template(template).render(values)
        response = HTMLResponse(html, status_code=status_code, headers=headers)
        if message is not None:
            response.delete_cookie(FLASH_COOKIE, httponly=True, samesite="lax")
        return response
