"""The web service: server-rendered pages for people and the operator console.

It owns no table: its pages call the services' HTTP APIs (`web.api`), keep signed-in sessions
in the platform's cache (`web.sessions`), and serve their vendored assets themselves, so they
work offline. Every page is sent with a strict Content-Security-Policy (no inline script) and
every state-changing form carries a CSRF token (asgi-csrf, double-submit cookie, signed)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from asgi_csrf import asgi_csrf
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Scope, Send

from bandstand import __version__
from bandstand.platform.app import NO_NATIVE_TELEMETRY, TrailingSlashMiddleware
from bandstand.platform.cache import CacheUnavailable
from bandstand.platform.clients import ForwardedClientMiddleware
from bandstand.platform.health import health_router
from bandstand.platform.observability import RequestContextMiddleware, metrics_endpoint
from bandstand.platform.runtime import Runtime
from bandstand.web.api import PlatformApi
from bandstand.web.headers import PageHeaders
from bandstand.web.media import media_routes
from bandstand.web.multipart_token import MultipartToken
from bandstand.web.pages import (
    academy,
    academy_teaching,
    account,
    admin,
    concerts,
    home,
    instruments,
    movies,
    music,
    photos,
)
from bandstand.web.rendering import STATIC, Flash, Renderer
from bandstand.web.secret import signing_secret
from bandstand.web.sessions import Sessions
from bandstand.web.visit import PageError, SignInRequired, WebState, login_url

NAME = "web"
PAGE_ROUTERS = (
    home.router,
    account.router,
    music.router,
    photos.router,
    concerts.router,
    instruments.router,
    movies.router,
    academy.router,
    academy_teaching.router,
    admin.router,
)
CSRF_ALWAYS_PROTECTED = ["/login", "/signup"]
"""Forms that are posted before any cookie exists still need their token (login CSRF)."""


def create_app(runtime: Runtime) -> FastAPI:
    settings = runtime.settings
    secret = signing_secret(settings)
    api = PlatformApi()
    flash = Flash(secret)
    renderer = Renderer(flash)
    state = WebState(
        api=api,
        sessions=Sessions(runtime.cache, runtime.verifier, api, settings.refresh_token_ttl_seconds),
        renderer=renderer,
        flash=flash,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        await api.start()
        try:
            yield
        finally:
            await api.stop()
            await runtime.stop()

    app = FastAPI(
        title="Bandstand web",
        version=__version__,
        lifespan=lifespan,
        redirect_slashes=False,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        telemetry=NO_NATIVE_TELEMETRY,
    )
    app.state.service_name = NAME
    app.state.runtime = runtime
    app.state.web = state
    app.state.readiness_checks = {"cache": runtime.ping_cache}
    app.include_router(health_router(NAME, __version__), include_in_schema=False)
    app.add_route("/metrics", metrics_endpoint, include_in_schema=False)
    for router in PAGE_ROUTERS:
        app.include_router(router)
    app.router.routes.extend(media_routes())
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _install_error_pages(app, renderer)

    async def refused(scope: Scope, send: Send, _reason: object) -> None:
        request = Request(scope)
        response = renderer.render(
            request,
            "error.html",
            {
                "user": None,
                "title": "Form expired",
                "message": "This form was sent without its security token, or the token has "
                "expired. Go back, reload the page and send it again.",
            },
            status_code=403,
        )
        await response(scope, _no_body, send)

    app.add_middleware(
        asgi_csrf,
        signing_secret=secret,
        always_protect=CSRF_ALWAYS_PROTECTED,
        always_set_cookie=True,
        send_csrf_failed=refused,
    )
    app.add_middleware(MultipartToken)
    app.add_middleware(PageHeaders)
    app.add_middleware(RequestContextMiddleware, service=NAME, access_log=settings.access_log)
    app.add_middleware(TrailingSlashMiddleware)
    app.add_middleware(ForwardedClientMiddleware, trusted=settings.trusted_proxies)
    return app


def bind_platform(app: FastAPI, platform: ASGIApp, *, run_lifespan: bool) -> None:
    """Gives the pages the platform's API: the in-process gateway (embedded mode), or a gateway
    proxying to the services' URLs whose lifespan the web runs (distributed mode)."""
    state: WebState = app.state.web
    state.api.bind(platform, run_lifespan=run_lifespan)


async def _no_body() -> dict[str, Any]:
    return {"type": "http.disconnect"}


def _install_error_pages(app: FastAPI, renderer: Renderer) -> None:
    def error_page(request: Request, status_code: int, title: str, message: str) -> Response:
        return renderer.render(
            request,
            "error.html",
            {"user": None, "title": title, "message": message},
            status_code=status_code,
        )

    async def sign_in(request: Request, _exc: Exception) -> Response:
        target = login_url(request)
        if request.headers.get("hx-request") == "true":
            return Response(status_code=204, headers={"HX-Redirect": target})
        return Response(status_code=303, headers={"location": target})

    async def page_failed(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageError)
        return error_page(request, exc.status_code, exc.title, exc.message)

    async def not_found(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404:
            return error_page(request, 404, "Not found", "There is no page at this address.")
        return error_page(request, exc.status_code, "Something went wrong", str(exc.detail))

    async def bad_query(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        fields = ", ".join(str(error["loc"][-1]) for error in exc.errors() if error.get("loc"))
        return error_page(request, 400, "Bad request", f"These values are not valid: {fields}.")

    async def unavailable(request: Request, _exc: Exception) -> Response:
        return error_page(
            request,
            503,
            "Temporarily unavailable",
            "Sessions cannot be read right now (the cache does not answer). Try again shortly.",
        )

    app.add_exception_handler(SignInRequired, sign_in)
    app.add_exception_handler(PageError, page_failed)
    app.add_exception_handler(StarletteHTTPException, not_found)
    app.add_exception_handler(RequestValidationError, bad_query)
    app.add_exception_handler(CacheUnavailable, unavailable)
