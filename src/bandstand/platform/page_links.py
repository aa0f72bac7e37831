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
    scope = request.scope
    host = next((value for name, value in scope["headers"] if name == b"host"), None)
    server = scope.get("server")
    key = (
        scope.get("scheme"),
        host,
        tuple(server) if server is not None else None,  # a list from some servers
        scope.get("root_path"),
        scope["path"],
        scope.get("query_string"),
        dropped,
        tuple(values),
    )
    known = _STARTS.get(key)
    if known is None:
        # Parsing the request's URL (its host checked) cost more than the rest of a link.
        url = request.url
        kept = [
            (name, value)
            for name, value in parse_qsl(url.query, keep_blank_values=True)
            if name != dropped and name not in values
        ]
        if len(_STARTS) >= STARTS_KEPT:
            _STARTS.clear()
        known = _STARTS[key] = (str(url).partition("?")[0], urlencode(kept))
    base, kept_query = known
    added = urlencode([(name, str(value)) for name, value in values.items()])
    return f"{base}?{kept_query}&{added}" if kept_query else f"{base}?{added}"


STARTS_KEPT = 1024
_STARTS: dict[tuple[Any, ...], tuple[str, str]] = {}
"""Each request URL's base and the query it keeps, by what the URL is built from."""
