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
from tests.support.client import api_client

PASSWORD = "Pages-Pass-1"
ADMIN = ("opal", "opal@example.com", PASSWORD)


@dataclass
class Pages:
    client: httpx.AsyncClient
    admin_token: str

    async def create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """A resource made through the API by the administrator."""
        answer = await self.client.post(
            path, json=body, headers={"Authorization": f"Bearer {self.admin_token}"}
        )
        assert answer.status_code == 201, answer.text
        created: dict[str, Any] = answer.json()
        return created

    async def sign_up(self, username: str) -> None:
        """A new account, signed in through the pages' log-in form (the client's cookies)."""
        answer = await self.client.post(
            "/api/v1/register",
            json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
        )
        assert answer.status_code == 201, answer.text
        self.client.cookies.clear()
        logged_in = await self.post("/login", login=username, password=PASSWORD)
        assert logged_in.status_code == 303, logged_in.text

    async def post(self, path: str, **fields: str) -> httpx.Response:
        """A form posted with its CSRF token, as a browser would."""
        if "csrftoken" not in self.client.cookies:
            await self.client.get("/login")
        token = self.client.cookies["csrftoken"]
        return await self.client.post(path, data={"csrftoken": token, **fields})


def migrated(settings: Settings) -> Settings:
    for entry in registry.SERVICES:
        if entry.has_database:
            upgrade_blocking(settings.database_url(entry.name), entry.name, entry.migrations)
    return settings


@asynccontextmanager
async def pages_of(settings: Settings) -> AsyncIterator[Pages]:
    await create_superuser(settings, *ADMIN)
    gateway = registry.embedded_gateway(Runtime(settings))
    async with api_client(gateway, timeout=30, raise_app_exceptions=False) as client:
        answer = await client.post(
            "/api/v1/login", json={"username": ADMIN[0], "password": PASSWORD}
        )
        assert answer.status_code == 200, answer.text
        yield Pages(client, str(answer.json()["access_token"]))
