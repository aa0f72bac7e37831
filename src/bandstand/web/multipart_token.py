"""The CSRF token of a multipart form (a file upload sent without JavaScript), handed to
asgi-csrf as the `x-csrftoken` header.

asgi-csrf reads a multipart body with python-multipart's `FormParser(FileClass=...)`, which the
python-multipart this project uses no longer takes (a TypeError: a 500 for every upload without
the header htmx adds). The token is a form's first field (every form here puts it first), so
the start of the body is enough: it is read, the token moved to the header asgi-csrf checks
first, and the body replayed untouched. A body without the cookie's token is marked as of no
form type, which asgi-csrf refuses with its own page (403) without parsing it."""

from __future__ import annotations

import re
import secrets
from http.cookies import CookieError, SimpleCookie

from starlette.types import ASGIApp, Message, Receive, Scope, Send

FIELD = "csrftoken"
COOKIE = "csrftoken"
REFUSED_TYPE = b"application/x-csrf-token-missing"
HEADER = b"x-csrftoken"
SCAN_BYTES = 16 * 1024
"""The first part of the body looked at: the token field is small and comes first."""


def _boundary(content_type: bytes) -> bytes | None:
    kind, _, params = content_type.partition(b";")
    if kind.strip().lower() != b"multipart/form-data":
        return None
    found = re.search(rb'boundary="?([^";]+)"?', params)
    return found.group(1) if found else None


def first_field_token(body: bytes, boundary: bytes) -> str | None:
    """The token when it is the body's first part (a plain field named `csrftoken`)."""
    pattern = (
        rb"\A(?:\r\n)?--" + re.escape(boundary) + rb"\r\n"
        rb'Content-Disposition: form-data; name="' + FIELD.encode() + rb'"\r\n'
        rb"(?:[^\r\n]+\r\n)*\r\n([^\r\n]{1,512})\r\n--" + re.escape(boundary)
    )
    found = re.match(pattern, body, flags=re.IGNORECASE)
    return found.group(1).decode() if found else None


def cookie_token(cookie_header: bytes) -> str | None:
    try:
        cookies = SimpleCookie(cookie_header.decode("latin-1"))
    except CookieError:
        return None
    morsel = cookies.get(COOKIE)
    return morsel.value if morsel else None


class MultipartToken:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        boundary = _boundary(headers.get(b"content-type", b""))
        if boundary is None or HEADER in headers:
            await self.app(scope, receive, send)
            return
        read: list[Message] = []
        body = b""
        more = True
        while more and len(body) < SCAN_BYTES:
            message = await receive()
            read.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if first_field_token(body, boundary):
                break
        token = first_field_token(body, boundary)
        expected = cookie_token(headers.get(b"cookie", b""))
        if token is not None and expected is not None and secrets.compare_digest(token, expected):
            scope = {**scope, "headers": [*scope["headers"], (HEADER, token.encode())]}
        elif expected is not None:
            kept = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
            scope = {**scope, "headers": [*kept, (b"content-type", REFUSED_TYPE)]}

        async def replay() -> Message:
            return read.pop(0) if read else await receive()

        await self.app(scope, replay, send)
