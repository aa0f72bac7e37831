"""The platform in-process for the pages' fast tests: every service migrated in a temporary
data directory, an administrator, and an httpx client over ASGI on the embedded gateway that
signs in through the pages' own log-in form."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from bandstand import registry
from bandstand.identity.commands import create_superuser
from bandstand.platform.migrations import upgrade_blocking
from bandstand.platform.runtime import Runtime
from bandstand.platform.settings import Settings
from bandstand.web.sessions import COOKIE
from tests.support.client import api_client

PASSWORD = "Pages-Pass-1"
ADMIN = ("opal", "opal@example.com", PASSWORD)


@dataclass
class Pages:
    client: httpx.AsyncClient
    admin_token: str
    runtime: Runtime
    """The gateway's runtime, for a test that reads what the pages keep (the cache)."""

    async def api(self, method: str, path: str, token: str, body: Any = None) -> Any:
        """An API call as the holder of `token`; its JSON answer, if any."""
        answer = await self.client.request(
            method, path, json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.is_success, answer.text
        return answer.json() if answer.content else None

    async def create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """A resource made through the API by the administrator."""
        answer = await self.client.post(
            path, json=body, headers={"Authorization": f"Bearer {self.admin_token}"}
        )
        assert answer.status_code == 201, answer.text
        created: dict[str, Any] = answer.json()
        return created

    async def register(self, username: str) -> int:
        """A new account made through the API, not signed in; its id."""
        answer = await self.client.post(
            "/api/v1/register",
            json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
        )
        assert answer.status_code == 201, answer.text
        return int(answer.json()["user"]["id"])

    async def token(self, username: str) -> str:
        """An API access token of the account."""
        answer = await self.client.post(
            "/api/v1/login", json={"username": username, "password": PASSWORD}
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    async def log_in(self, username: str) -> None:
        """The pages' log-in form: the client's cookies are then this person's."""
        self.client.cookies.clear()
        answer = await self.post("/login", login=username, password=PASSWORD)
        assert answer.status_code == 303, answer.text

    async def sign_up(self, username: str) -> None:
        """A new account, signed in through the pages' log-in form (the client's cookies)."""
        await self.register(username)
        await self.log_in(username)

    async def sign_up_by_form(self, username: str) -> None:
        """A new account made with the pages' sign-up form, which signs it in."""
        answer = await self.post(
            "/signup",
            username=username,
            email=f"{username}@example.com",
            password=PASSWORD,
            password_confirm=PASSWORD,
        )
        assert answer.status_code == 303, answer.text
        assert COOKIE in self.client.cookies

    @property
    def csrf(self) -> str:
        """The CSRF token a form of the pages sends back (it is also the cookie's)."""
        return self.client.cookies["csrftoken"]

    async def post(self, path: str, **fields: str) -> httpx.Response:
        """A form posted with its CSRF token, as a browser would."""
        if "csrftoken" not in self.client.cookies:
            await self.client.get("/login")
        return await self.client.post(path, data={"csrftoken": self.csrf, **fields})


def migrated(settings: Settings) -> Settings:
    for entry in registry.SERVICES:
        if entry.has_database:
            upgrade_blocking(settings.database_url(entry.name), entry.name, entry.migrations)
    return settings


@asynccontextmanager
async def pages_of(
    settings: Settings, address: tuple[str, int] = ("203.0.113.10", 50000)
) -> AsyncIterator[Pages]:
    """The platform on `settings` (migrated), its client calling from `address`."""
    await create_superuser(settings, *ADMIN)
    runtime = Runtime(settings)
    gateway = registry.embedded_gateway(runtime)
    async with api_client(
        gateway, client=address, timeout=30, raise_app_exceptions=False
    ) as client:
        pages = Pages(client, "", runtime)
        pages.admin_token = await pages.token(ADMIN[0])
        yield pages
