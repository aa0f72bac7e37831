"""A page's `next` and `previous` links keep the request's other parameters, as Starlette's
`remove_query_params` then `include_query_params` would write them."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from bandstand.platform.pagination import _link

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
