"""Typed dependencies of identity's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from bandstand.identity.authentication import AuthenticationService, ClientInfo
from bandstand.platform.clients import client_address
from bandstand.platform.errors import ErrorBody
from bandstand.platform.security import AdminUser, CurrentUser, OptionalUser

__all__ = [
    "LOGIN_RESPONSES",
    "AdminUser",
    "Authentication",
    "Client",
    "CurrentUser",
    "OptionalUser",
]

LOGIN_RESPONSES: dict[int | str, dict[str, object]] = {
    429: {
        "model": ErrorBody,
        "description": "Too many failed logins from this address (for this account); see "
        "`Retry-After`",
    },
    503: {
        "model": ErrorBody,
        "description": "Too many passwords being checked at once, or a database or cache is "
        "unreachable; see `Retry-After`",
    },
}


async def _authentication(request: Request) -> AuthenticationService:
    service: AuthenticationService = request.app.state.authentication
    return service


async def client_info(request: Request) -> ClientInfo:
    return ClientInfo(
        ip_address=client_address(request), user_agent=request.headers.get("user-agent")
    )


Authentication = Annotated[AuthenticationService, Depends(_authentication)]
Client = Annotated[ClientInfo, Depends(client_info)]
