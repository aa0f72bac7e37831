"""Ending a login session ends every access token issued in it, in every service.

A session is a refresh-token family; its access tokens carry its id (`sid`), and a revoked
session is checked by every service that verifies tokens locally. A replayed refresh token, a
logout and a password change (the caller's own: every other session; an admin's: every session of
that user) revoke sessions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

import bandstand.academy
from bandstand.academy import app as academy_app
from bandstand.academy.models import AcademyBase
from bandstand.identity import app as identity_app
from bandstand.platform.runtime import Runtime
from bandstand.platform.settings import Settings
from tests.identity.conftest import USER_PASSWORD, IdentityHarness, Tokens
from tests.support.client import api_client
from tests.support.databases import MigratedDatabases

REFRESH = "/api/v1/token/refresh/"
LOGOUT = "/api/v1/logout/"
PROFILE = "/api/v1/profile/"
CHANGE_PASSWORD = "/api/v1/profile/password/"
NEW_PASSWORD = "a brand new secret"
ACADEMY_MIGRATIONS = Path(bandstand.academy.__file__).parent / "migrations"


async def _rotate(client: httpx.AsyncClient, tokens: Tokens) -> Tokens:
    response = await client.post(REFRESH, json={"refresh_token": tokens.refresh_token})
    assert response.status_code == 200, response.text
    body = response.json()
    return Tokens(body["access_token"], body["refresh_token"])


async def _status(client: httpx.AsyncClient, tokens: Tokens, path: str = PROFILE) -> int:
    return (await client.get(path, headers=tokens.headers)).status_code


async def test_a_replayed_refresh_token_ends_the_sessions_access_tokens(
    identity: IdentityHarness, client: httpx.AsyncClient, member_tokens: Tokens
) -> None:
    other_session = await identity.tokens(identity.member)
    # The thief rotates the stolen refresh token first; the owner's replay then reveals it.
    stolen = await _rotate(client, member_tokens)
    assert await _status(client, stolen) == 200

    replay = await client.post(REFRESH, json={"refresh_token": member_tokens.refresh_token})
    assert replay.status_code == 401

    for tokens in (stolen, member_tokens):
        refused = await client.get(PROFILE, headers=tokens.headers)
        assert refused.status_code == 401
        assert refused.json() == {"detail": "Token revoked"}
    assert await _status(client, other_session) == 200


async def test_logout_ends_every_access_token_of_the_session(
    identity: IdentityHarness, client: httpx.AsyncClient, member_tokens: Tokens
) -> None:
    other_session = await identity.tokens(identity.member)
    rotated = await _rotate(client, member_tokens)  # a newer access token of the same session

    assert (await client.post(LOGOUT, headers=member_tokens.headers)).status_code == 200

    assert await _status(client, rotated) == 401
    assert await _status(client, member_tokens) == 401
    assert await _status(client, other_session) == 200


async def test_logout_with_another_sessions_refresh_token_ends_that_session_too(
    identity: IdentityHarness, client: httpx.AsyncClient, member_tokens: Tokens
) -> None:
    other_session = await identity.tokens(identity.member)
    response = await client.post(
        LOGOUT, json={"refresh_token": other_session.refresh_token}, headers=member_tokens.headers
    )
    assert response.status_code == 200
    assert await _status(client, other_session) == 401


async def test_changing_ones_password_ends_every_other_session(
    identity: IdentityHarness, client: httpx.AsyncClient
) -> None:
    here = await identity.login("member", USER_PASSWORD)
    phone = await identity.login("member", USER_PASSWORD)
    laptop = await identity.tokens(identity.member)
    other_user = await identity.tokens(identity.admin)

    response = await client.post(
        CHANGE_PASSWORD,
        json={"current_password": USER_PASSWORD, "new_password": NEW_PASSWORD},
        headers=here.headers,
    )
    assert response.status_code == 200, response.text

    for elsewhere in (phone, laptop):
        assert await _status(client, elsewhere) == 401
        refresh = await client.post(REFRESH, json={"refresh_token": elsewhere.refresh_token})
        assert refresh.status_code == 401
    # The session that changed the password goes on, and so does everyone else's.
    assert await _status(client, here) == 200
    assert await _status(client, await _rotate(client, here)) == 200
    assert await _status(client, other_user) == 200


async def test_an_admin_setting_a_password_ends_every_session_of_that_user(
    identity: IdentityHarness, client: httpx.AsyncClient, admin_tokens: Tokens
) -> None:
    first = await identity.tokens(identity.member)
    second = await identity.tokens(identity.member)

    response = await client.put(
        f"/users/{identity.member.id}",
        json={"password": NEW_PASSWORD},
        headers=admin_tokens.headers,
    )
    assert response.status_code == 200, response.text

    for tokens in (first, second):
        assert await _status(client, tokens) == 401
        refresh = await client.post(REFRESH, json={"refresh_token": tokens.refresh_token})
        assert refresh.status_code == 401
    assert await _status(client, admin_tokens) == 200


@dataclass
class TwoServices:
    identity: httpx.AsyncClient
    academy: httpx.AsyncClient


@asynccontextmanager
async def _identity_and_academy(
    settings: Settings, migrated_databases: MigratedDatabases, engine: str, tmp_path: Path
) -> AsyncIterator[TwoServices]:
    """Identity and academy in one process on one runtime, as `bandstand up` runs them."""
    academy_url = await migrated_databases.fresh(
        engine, "academy", ACADEMY_MIGRATIONS, AcademyBase.metadata, tmp_path
    )
    runtime = Runtime(
        settings.model_copy(update={"databases": {**settings.databases, "academy": academy_url}})
    )
    identity = identity_app.create_app(runtime)
    academy = academy_app.create_app(runtime)
    async with api_client(identity) as people, api_client(academy) as school:
        yield TwoServices(people, school)


async def _register_and_login(people: httpx.AsyncClient) -> Tokens:
    account = {"username": "ada", "email": "ada@example.com", "password": USER_PASSWORD}
    assert (await people.post("/api/v1/register/", json=account)).status_code == 201
    response = await people.post(
        "/api/v1/login/", json={"username": "ada", "password": USER_PASSWORD}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return Tokens(body["access_token"], body["refresh_token"])


@pytest.mark.parametrize("ending", ["refresh-replay", "logout", "password-change"])
async def test_another_service_refuses_the_tokens_of_an_ended_session(
    ending: str,
    engine: str,
    identity_settings: Settings,
    migrated_databases: MigratedDatabases,
    tmp_path: Path,
) -> None:
    async with _identity_and_academy(
        identity_settings, migrated_databases, engine, tmp_path
    ) as services:
        people, school = services.identity, services.academy
        progress = "/api/v1/progress"
        first = await _register_and_login(people)
        rotated = await _rotate(people, first)
        assert await _status(school, rotated, progress) == 200

        if ending == "refresh-replay":
            replay = await people.post(REFRESH, json={"refresh_token": first.refresh_token})
            assert replay.status_code == 401
        elif ending == "logout":
            assert (await people.post(LOGOUT, headers=first.headers)).status_code == 200
        else:
            # Changed from a newer session: the first one (and its rotated token) ends.
            newer = await people.post(
                "/api/v1/login/", json={"username": "ada", "password": USER_PASSWORD}
            )
            here = Tokens(newer.json()["access_token"], newer.json()["refresh_token"])
            change = await people.post(
                CHANGE_PASSWORD,
                json={"current_password": USER_PASSWORD, "new_password": NEW_PASSWORD},
                headers=here.headers,
            )
            assert change.status_code == 200, change.text
            assert await _status(school, here, progress) == 200

        refused = await school.get(progress, headers=rotated.headers)
        assert refused.status_code == 401
        assert refused.json()["detail"] == "Token revoked"
        assert await _status(school, first, progress) == 401
