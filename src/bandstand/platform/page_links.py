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
    kept = _kept(query, dropped, tuple(values)) if query else ""
    added = urlencode([(name, str(value)) for name, value in values.items()])
    base = _base(request)
    return f"{base}?{kept}&{added}" if kept else f"{base}?{added}"


def _kept(query: bytes, dropped: str, replaced: tuple[str, ...]) -> str:
    """The query string's parameters but `dropped` and `replaced`, written again."""
    key = (query, dropped, replaced)
    kept = _KEPT.get(key)
    if kept is None:
        pairs = parse_qsl(query.decode(), keep_blank_values=True)
        kept = urlencode([(n, v) for n, v in pairs if n != dropped and n not in replaced])
        if len(query) <= KEPT_QUERY_BYTES:
            if len(_KEPT) >= KEPT_QUERIES:
                _KEPT.clear()
            _KEPT[key] = kept
    return kept


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


KEPT_QUERIES = 1024
KEPT_QUERY_BYTES = 2048
_KEPT: dict[tuple[bytes, str, tuple[str, ...]], str] = {}
"""The kept part of each query string seen lately (a list read again with the same query)."""
BASES_KEPT = 1024
_BASES: dict[tuple[Any, ...], str] = {}
"""Each request URL's part before its query, by what that part is built from."""
