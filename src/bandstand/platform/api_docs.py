"""`/docs` without the internet: Swagger UI served from files shipped in the package.

FastAPI's own docs page loads Swagger UI from a CDN, so it is blank on a machine that is offline
or behind a strict firewall. Here the page points at `/docs/assets/{file}` on the same host,
answered from `docs_assets/` (swagger-ui-dist, see its README) with an ETag and a long
Cache-Control: the page's URLs carry a digest of each file, so a new version is a new URL.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from fastapi.openapi.docs import get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"
CACHE_CONTROL = "public, max-age=31536000, immutable"
# The files a docs page may ask for, with their content types.
ASSET_TYPES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    etag: str

    @property
    def version(self) -> str:
        return self.etag.strip('"')[:12]


@cache
def asset(name: str) -> Asset | None:
    """The shipped file `name`, read once; None for any name that is not a docs asset."""
    media_type = ASSET_TYPES.get(name)
    if media_type is None:
        return None
    body = resources.files("bandstand.platform").joinpath("docs_assets", name).read_bytes()
    return Asset(body, media_type, f'"{hashlib.sha256(body).hexdigest()[:32]}"')


def is_asset_path(path: str) -> bool:
    """Whether `path` (without a trailing slash) is under `/docs/assets/`."""
    return path.startswith(ASSETS_PATH + "/")


def asset_url(name: str, root_path: str = "") -> str:
    found = asset(name)
    assert found is not None, name
    return f"{root_path}{ASSETS_PATH}/{name}?v={found.version}"


async def asset_endpoint(request: Request) -> Response:
    found = asset(str(request.path_params["name"]))
    if found is None:
        return Response('{"detail":"Not Found"}', 404, media_type="application/json")
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": found.etag}
    if found.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(found.body, media_type=found.media_type, headers=headers)


def docs_page(request: Request, openapi_url: str, title: str) -> HTMLResponse:
    """Swagger UI for `openapi_url`, every URL on the host that serves the page."""
    root = str(request.scope.get("root_path", "")).rstrip("/")
    return get_swagger_ui_html(
        openapi_url=root + openapi_url,
        title=title,
        swagger_js_url=asset_url("swagger-ui-bundle.js", root),
        swagger_css_url=asset_url("swagger-ui.css", root),
        swagger_favicon_url=asset_url("favicon-32x32.png", root),
    )


def docs_routes(openapi_url: str, title: str) -> list[Route]:
    """`/docs` for the document at `openapi_url`, and the assets it loads."""

    async def page(request: Request) -> Response:
        return docs_page(request, openapi_url, title)

    return [
        Route(DOCS_PATH, page, methods=["GET", "HEAD"], include_in_schema=False),
        Route(
            ASSETS_PATH + "/{name}",
            asset_endpoint,
            methods=["GET", "HEAD"],
            include_in_schema=False,
        ),
    ]
