"""One page request as the page code sees it: who is signed in, the API, and the answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bandstand.web.api import ApiResponse, PlatformApi, Query
from bandstand.web.rendering import Flash, Renderer
from bandstand.web.sessions import Sessions, WebSession


class SignInRequired(Exception):
    """The page needs a signed-in visitor (or the session ended): off to the log-in page."""


class PageError(Exception):
    def __init__(self, status_code: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.title = title
        self.message = message


UNAVAILABLE = {502, 503, 504}


def page_error(answer: ApiResponse) -> PageError:
    if answer.status == 403:
        return PageError(403, "Not allowed", "Your account is not allowed to see or do this.")
    if answer.status == 404:
        return PageError(404, "Not found", answer.detail())
    if answer.status in UNAVAILABLE:
        return PageError(
            503, "Temporarily unavailable", f"{answer.detail()} Please try again in a moment."
        )
    return PageError(answer.status, "Something went wrong", answer.detail())


@dataclass(frozen=True)
class WebState:
    """What the web app keeps for its pages (on `app.state.web`)."""

    api: PlatformApi
    sessions: Sessions
    renderer: Renderer
    flash: Flash


@dataclass
class Visit:
    request: Request
    state: WebState
    session: WebSession | None

    @property
    def user(self) -> WebSession | None:
        return self.session

    def signed_in(self) -> WebSession:
        if self.session is None:
            raise SignInRequired
        return self.session

    def admin(self) -> WebSession:
        session = self.signed_in()
        if not session.is_admin:
            raise PageError(403, "Not allowed", "The operator console is for administrators.")
        return session

    def instructor(self) -> WebSession:
        session = self.signed_in()
        if not session.is_instructor:
            raise PageError(403, "Not allowed", "This page is for instructors.")
        return session

    async def call(
        self,
        method: str,
        path: str,
        *,
        query: Query | None = None,
        json_body: Any = None,
        body: bytes | None = None,
        content_type: str | None = None,
        anonymous: bool = False,
    ) -> ApiResponse:
        """The API's answer as it is: for forms, which show a refusal's reason beside the field.

        `anonymous`: asked without the visitor's token, for a public read whose answer is the
        same for everyone, which the API's shared cache of public lists may then give."""
        token = None if anonymous or self.session is None else self.session.access_token
        answer = await self.state.api.call(
            method,
            path,
            token=token,
            query=query,
            json_body=json_body,
            body=body,
            content_type=content_type,
            client=self.request.client and (self.request.client.host, self.request.client.port),
        )
        if answer.status == 401 and self.session is not None:
            raise SignInRequired
        return answer

    async def get(self, path: str, query: Query | None = None, *, anonymous: bool = False) -> Any:
        """The body of a read that must succeed; a refusal becomes the error page."""
        answer = await self.call("GET", path, query=query, anonymous=anonymous)
        if answer.status == 401:
            raise SignInRequired
        if not answer.ok:
            raise page_error(answer)
        return answer.body

    def page(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        return self.state.renderer.render(
            self.request, template, {"user": self.session, **context}, status_code=status_code
        )

    def redirect(self, url: str, message: str | None = None, kind: str = "success") -> Response:
        """Post/redirect/get, with a message for the next page; htmx follows `HX-Redirect`."""
        if self.request.headers.get("hx-request") == "true":
            response: Response = Response(status_code=204, headers={"HX-Redirect": url})
        else:
            response = RedirectResponse(url, status_code=303)
        if message:
            self.state.flash.set(response, message, kind)
        return response


def login_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/login?next={quote(target, safe='')}"


async def _visit(request: Request) -> Visit:
    state: WebState = request.app.state.web
    return Visit(request, state, await state.sessions.current(request))


PageVisit = Annotated[Visit, Depends(_visit)]
