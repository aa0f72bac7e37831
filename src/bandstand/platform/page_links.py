"""The links of a list's page (`next`, `previous`): the request's URL with its page's
parameters replaced, as Starlette's `remove_query_params` then `include_query_params` write it."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request


def page_link(request: Request, page_size: int, page: int) -> str:
    """The link to page number `page`."""
    return link(request, "cursor", page=page, page_size=page_size)


def cursor_link(request: Request, page_size: int, cursor: str) -> str:
    """The link to the page a keyset `cursor` names."""
    return link(request, "page", cursor=cursor, page_size=page_size)


def link(request: Request, dropped: str, **values: object) -> str:
    """The request's URL without `dropped` and with `values` last, in their order, as
    Starlette's `remove_query_params` then `include_query_params` write it, in one pass."""
    query = request.scope.get("query_string", b"")
    kept = ""
    if query:
        kept = urlencode(
            [
                (name, value)
                for name, value in parse_qsl(query.decode(), keep_blank_values=True)
                if name != dropped and name not in values
            ]
        )
    added = urlencode([(name, str(value)) for name, value in values.items()])
    base = _base(request)
    return f"{base}?{kept}&{added}" if kept else f"{base}?{added}"


def _base(request: Request) -> str:
    """The request's URL without its query: parsing it from the request (its host checked)
    cost more than the rest of a link, and it is the same for every query of a list."""
    scope = request.scope
    host = next((value for name, value in scope["headers"] if name == b"host"), None)
    server = scope.get("server")
    key = (
        scope.get("scheme"),
        host,
        tuple(server) if server is not None else None,  # a list from some servers
        scope.get("root_path"),
        scope["path"],
    )
    base = _BASES.get(key)
    if base is None:
        if len(_BASES) >= BASES_KEPT:
            _BASES.clear()
        base = _BASES[key] = str(request.url).partition("?")[0]
    return base


BASES_KEPT = 1024
_BASES: dict[tuple[Any, ...], str] = {}
"""Each request URL's part before its query, by what that part is built from."""
