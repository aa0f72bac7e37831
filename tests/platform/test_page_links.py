"""A page's `next` and `previous` links keep the request's other parameters, as Starlette's
`remove_query_params` then `include_query_params` would write them."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from bandstand.platform.page_links import link as _link

QUERIES = [
    "",
    "page=2",
    "a=1&a=2&page=3&page_size=9",
    "search=caf%C3%A9+bar&cursor=abc",
    "x=&y=%2F&page=1",
    "q=a%26b&cursor=1&page=2&z=3",
]


@pytest.mark.parametrize("query", QUERIES)
def test_links_are_starlette_s(query: str) -> None:
    request = Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/api/v1/songs",
            "query_string": query.encode(),
            "headers": [(b"host", b"example.com:8080")],
            "scheme": "http",
            "server": ("example.com", 8080),
            "root_path": "",
        }
    )
    url = request.url
    assert _link(request, "cursor", page=5, page_size=50) == str(
        url.remove_query_params("cursor").include_query_params(page=5, page_size=50)
    )
    assert _link(request, "page", cursor="zz", page_size=50) == str(
        url.remove_query_params("page").include_query_params(cursor="zz", page_size=50)
    )


def _request(host: bytes | None, server: object, path: str, query: str, scheme: str) -> Request:
    headers = [(b"accept", b"*/*")] + ([(b"host", host)] if host is not None else [])
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": path,
            "query_string": query.encode(),
            "headers": headers,
            "scheme": scheme,
            "server": server,
            "root_path": "",
        }
    )


def test_links_kept_by_their_url_parts_are_each_request_s_own() -> None:
    """A link's base is kept by what the URL is made of: requests that differ in
    any part get their own, a request seen again gets the same, and a server given as a list
    (as some ASGI servers and test clients give it) works too."""
    requests = [
        _request(b"example.com", ["example.com", 80], "/api/v1/songs", "a=1&page=2", "http"),
        _request(b"other.example", ("other.example", 80), "/api/v1/songs", "a=1&page=2", "http"),
        _request(b"example.com", ("example.com", 443), "/api/v1/songs", "a=1&page=2", "https"),
        _request(b"example.com", ("example.com", 80), "/api/v1/albums", "a=1&page=2", "http"),
        _request(b"example.com", ("example.com", 80), "/api/v1/songs", "a=2&page=2", "http"),
        _request(None, ["10.0.0.1", 8000], "/api/v1/songs", "a=1", "http"),
    ]
    for _ in range(2):
        for request in requests:
            expected = request.url.remove_query_params("page").include_query_params(
                cursor="zz", page_size=50
            )
            assert _link(request, "page", cursor="zz", page_size=50) == str(expected)
