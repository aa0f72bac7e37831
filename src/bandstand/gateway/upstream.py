"""What the gateway forwards a request to (`Upstream`), and the upstream of a service mounted in
this process; one reached over HTTP is `proxy.HttpUpstream`."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from bandstand.platform.health import run_checks


class Upstream(Protocol):
    name: str

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def ready(self, authorization: str | None = None) -> dict[str, Any]:
        """`{"status": "up"|"down", ...}` from the service's own readiness checks; sent
        `authorization` (an admin's), a remote service tells why a check failed."""
        ...

    async def openapi(self) -> dict[str, Any]: ...


class InProcessUpstream:
    """A service app in this process: the request is handed over without a network hop.

    The gateway runs the app's lifespan, since no server does it for a mounted app."""

    def __init__(self, name: str, app: FastAPI) -> None:
        self.name = name
        self.app = app
        self._lifespan: AbstractAsyncContextManager[Any] | None = None

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A copy: what the service's router writes into its scope (the matched route, the
        # app) is not the gateway's, whose metrics label the request by upstream in both modes.
        await self.app(dict(scope), receive, send)

    async def start(self) -> None:
        if self._lifespan is None:
            self._lifespan = self.app.router.lifespan_context(self.app)
            await self._lifespan.__aenter__()

    async def stop(self) -> None:
        if self._lifespan is not None:
            lifespan, self._lifespan = self._lifespan, None
            await lifespan.__aexit__(None, None, None)

    async def ready(self, authorization: str | None = None) -> dict[str, Any]:
        checks = getattr(self.app.state, "readiness_checks", {})
        results = await run_checks(checks)
        down = any(result["status"] != "up" for result in results.values())
        return {"status": "down" if down else "up", "checks": results}

    async def openapi(self) -> dict[str, Any]:
        return self.app.openapi()
