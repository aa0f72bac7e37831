"""Identity's test fixtures: the service harness with two seeded accounts (an admin and a user)
and helpers to log in and to look at what was stored. Every client checks that no response
carries a password or a password hash.

Argon2id at production cost takes 60-150 ms per hash on a small machine, so tests that are not
about hashing use argon2id at minimal cost; those that are request `production_hashing`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Self

import httpx
import pytest
from argon2 import PasswordHasher, Type
from fastapi import FastAPI
from sqlalchemy import select

import bandstand.identity
from bandstand.identity import passwords
from bandstand.identity.app import create_app
from bandstand.identity.models import IdentityBase, RefreshToken, User
from bandstand.platform.runtime import Runtime
from bandstand.platform.settings import Settings
from tests.support.client import api_client
from tests.support.harness import ServiceHarness
from tests.support.tokens import TokenFactory

MIGRATIONS = Path(bandstand.identity.__file__).parent / "migrations"
ADMIN_PASSWORD = "admin-Passw0rd!"
USER_PASSWORD = "member-Passw0rd!"
CLIENT_IP = "203.0.113.10"  # a public address: its X-Forwarded-For is not believed

FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID)


@cache
def _hash(password: str, password_hasher: PasswordHasher) -> str:
    return password_hasher.hash(password)


def password_hash(password: str) -> str:
    """The hash of `password` with the hasher in force, computed once per test session."""
    return _hash(password, passwords.hasher())


@pytest.fixture
def production_hashing() -> None:
    """Keep argon2id at its production parameters in this test."""


@pytest.fixture(autouse=True)
def _fast_password_hashing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if "production_hashing" not in request.fixturenames:
        monkeypatch.setattr(passwords, "hasher", lambda: FAST_HASHER)


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    email: str
    password: str
    role: str


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.access_token)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def error_locations(body: dict[str, Any]) -> list[str]:
    """The field names a validation error body points at (FastAPI's list form)."""
    detail = body.get("detail")
    assert isinstance(detail, list), body
    return [str(part) for error in detail for part in error["loc"] if part not in ("body",)]


def names_field(body: dict[str, Any], field: str) -> bool:
    """Whether an error body names `field`, in its locations or its text."""
    detail = body.get("detail")
    if isinstance(detail, list):
        return field in error_locations(body)
    return field in str(detail)


def _forbidden_content(value: Any, path: str = "$") -> str | None:
    """Where `value` (a decoded JSON body) holds a password field or an argon2 hash, if anywhere."""
    if isinstance(value, dict):
        for key, item in value.items():
            if "password" in str(key).lower():
                return f"{path}.{key}"
            found = _forbidden_content(item, f"{path}.{key}")
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _forbidden_content(item, f"{path}[{index}]")
            if found:
                return found
    elif isinstance(value, str) and "$argon2" in value:
        return path
    return None


async def assert_no_secrets(response: httpx.Response) -> None:
    """Response hook of every test client: no body ever carries a password or its hash.

    Validation errors may name the `password` field in their messages; no body may have a key
    with "password" in it, nor any argon2 hash anywhere.
    """
    if response.request.url.path == "/openapi.json":
        return
    body = await response.aread()
    assert b"$argon2" not in body, f"{response.request.url} returned a password hash"
    if not body or "json" not in response.headers.get("content-type", ""):
        return
    found = _forbidden_content(json.loads(body))
    assert found is None, f"{response.request.url} returned a password field at {found}"


def _client(app: FastAPI, ip: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(ip, 50000)),
        base_url="http://testserver",
        event_hooks={"response": [assert_no_secrets]},
    )


class IdentityHarness(ServiceHarness):
    """The running identity app, its database, and the seeded admin and user."""

    name = "identity"
    app_factory = create_app
    migrations = MIGRATIONS
    metadata = IdentityBase.metadata

    def __init__(self, app: FastAPI, client: httpx.AsyncClient, settings: Settings) -> None:
        # Identity signs its own tokens: no test key (`tokens` here logs an account in).
        self.app = app
        self.client = client
        self.settings = settings
        self.admin: Account
        self.member: Account

    @classmethod
    @asynccontextmanager
    async def running(  # type: ignore[override]
        cls, settings: Settings, tokens: TokenFactory | None = None, *, seed: bool = True
    ) -> AsyncIterator[Self]:
        """Identity running on its migrated database (lifespan, outbox relay); with `seed`, an
        admin and a user stored. Every response is checked to carry no secret."""
        app = create_app(Runtime(settings))
        hooks = {"response": [assert_no_secrets]}
        async with api_client(app, client=(CLIENT_IP, 50000), event_hooks=hooks) as client:
            harness = cls(app, client, settings)
            if seed:
                harness.admin = await harness.add_user(
                    "boss", password=ADMIN_PASSWORD, role="admin"
                )
                harness.member = await harness.add_user("member", password=USER_PASSWORD)
            yield harness

    async def add_user(
        self,
        username: str,
        *,
        password: str = USER_PASSWORD,
        role: str = "user",
        email: str | None = None,
        first_name: str = "",
        last_name: str = "",
        is_active: bool = True,
    ) -> Account:
        """Store an account directly (no request, no event), with a cached password hash."""
        email = email or f"{username}@example.com"
        async with self.session() as session:
            user = User(
                username=username,
                email=email,
                password_hash=password_hash(password),
                first_name=first_name,
                last_name=last_name,
                role=role,
                is_active=is_active,
            )
            session.add(user)
            await session.flush()
            return Account(user.id, username, email, password, role)

    async def tokens(self, account: Account) -> Tokens:
        """A fresh login session for `account` without paying for a password check."""
        async with self.session() as session:
            user = await session.get(User, account.id)
            assert user is not None
            issued = await self.app.state.authentication.issue(session, user)
        return Tokens(issued.access_token, issued.refresh_token)

    async def login(self, login: str, password: str) -> Tokens:
        """Log in through the API and return the tokens (asserting success)."""
        response = await self.client.post(
            "/api/v1/login", json={"username": login, "password": password}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        return Tokens(body["access_token"], body["refresh_token"])

    @asynccontextmanager
    async def client_from(self, ip: str) -> AsyncIterator[httpx.AsyncClient]:
        """Another client of the same running app, calling from address `ip`."""
        async with _client(self.app, ip) as client:
            yield client

    async def user_count(self) -> int:
        return await self.count(User)

    async def users_snapshot(self) -> list[dict[str, Any]]:
        """Every stored user as a dict of its columns, for "nothing changed" assertions."""
        return await self.rows(User)

    async def stored_user(self, user_id: int) -> User | None:
        async with self.database.session() as session:
            return await session.get(User, user_id)

    async def refresh_tokens(self, user_id: int) -> list[RefreshToken]:
        async with self.database.session() as session:
            statement = select(RefreshToken).where(RefreshToken.user_id == user_id)
            return list((await session.execute(statement.order_by(RefreshToken.id))).scalars())


identity_database_url, identity_settings, identity, client = IdentityHarness.fixtures()
running_identity = IdentityHarness.running


@pytest.fixture
async def admin_tokens(identity: IdentityHarness) -> Tokens:
    return await identity.tokens(identity.admin)


@pytest.fixture
async def member_tokens(identity: IdentityHarness) -> Tokens:
    return await identity.tokens(identity.member)
