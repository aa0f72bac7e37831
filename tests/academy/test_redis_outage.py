"""Redis goes away mid-test and comes back: identity and academy, sharing a real Redis server for
the cache, the rate limits and the token denylist, degrade and never answer 500.

While it is away: the popular ranking is computed (and kept per process), tokens are checked
against this process's denylist, login failures are counted per process, `/ready` names the
cache, and the outage is logged. Once it is back: what was revoked or dropped meanwhile holds
for every process."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher, Type

import bandstand.identity
from bandstand.academy import app as academy_app
from bandstand.academy.models import Course
from bandstand.identity import app as identity_app
from bandstand.identity import passwords
from bandstand.identity.models import IdentityBase
from bandstand.platform.database import Database
from bandstand.platform.redis_cache import RedisCache
from bandstand.platform.runtime import Runtime
from bandstand.platform.settings import Settings
from tests.support.client import api_client
from tests.support.databases import MigratedDatabases
from tests.support.servers import RedisServer

IDENTITY_MIGRATIONS = Path(bandstand.identity.__file__).parent / "migrations"
PASSWORD = "correct horse battery"
pytestmark = pytest.mark.redis


async def _add_course(database: Database, title: str) -> int:
    now = datetime.now(UTC)
    async with database.session() as session, session.begin():
        course = Course(title=title, instructor_id=None, created_at=now, updated_at=now)
        session.add(course)
        await session.flush()
        return course.id


async def _popular(school: httpx.AsyncClient) -> list[tuple[int, int]]:
    response = await school.get("/api/v1/courses/popular")
    assert response.status_code == 200, response.text
    return [(item["id"], item["enrollment_count"]) for item in response.json()["results"]]


async def _login(people: httpx.AsyncClient, password: str = PASSWORD) -> httpx.Response:
    return await people.post("/api/v1/login/", json={"username": "ada", "password": password})


@pytest.mark.parametrize("engine", ["sqlite"])
async def test_services_degrade_while_redis_is_away_and_recover(
    engine: str,
    migrated_databases: MigratedDatabases,
    make_settings: Callable[..., Settings],
    academy_database_url: str,
    redis_server: RedisServer,
    redis_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fast = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID)
    monkeypatch.setattr(passwords, "hasher", lambda: fast)
    identity_url = await migrated_databases.fresh(
        engine, "identity", IDENTITY_MIGRATIONS, IdentityBase.metadata, tmp_path
    )
    settings = make_settings(
        databases={"identity": identity_url, "academy": academy_database_url},
        cache_url=redis_url,
        login_max_failures=3,
    )
    runtime = Runtime(settings)
    identity = identity_app.create_app(runtime)
    academy = academy_app.create_app(runtime)
    async with api_client(identity) as people, api_client(academy) as school:
        registered = await people.post(
            "/api/v1/register/",
            json={"username": "ada", "email": "ada@example.com", "password": PASSWORD},
        )
        assert registered.status_code == 201, registered.text
        first = await _add_course(academy.state.database, "First")
        second = await _add_course(academy.state.database, "Second")
        token = (await _login(people)).json()["token"]
        ada = {"Authorization": f"Bearer {token}"}
        assert (await school.post(f"/api/v1/enroll/{first}", headers=ada)).status_code == 201
        assert await _popular(school) == [(first, 1), (second, 0)]

        caplog.set_level(logging.WARNING, logger="bandstand.cache")
        redis_server.stop()
        try:
            assert (await school.get("/ready")).status_code == 503
            assert "cache" in (await school.get("/ready")).text
            assert (await school.get("/api/v1/progress", headers=ada)).status_code == 200
            assert await _popular(school) == [(first, 1), (second, 0)]
            assert (await school.post(f"/api/v1/enroll/{second}", headers=ada)).status_code == 201
            assert (await school.delete(f"/api/v1/enroll/{first}", headers=ada)).status_code == 204
            assert await _popular(school) == [(second, 1), (first, 0)]
            # Login failures are counted in this process meanwhile.
            failures = [(await _login(people, "wrong password")).status_code for _ in range(4)]
            assert failures == [401, 401, 401, 429]
            # A logout revokes the token in this process meanwhile.
            assert (await people.post("/api/v1/logout/", headers=ada)).status_code == 200
            assert (await school.get("/api/v1/progress", headers=ada)).status_code == 401
            assert any("redis unavailable" in r.getMessage() for r in caplog.records)
        finally:
            redis_server.start()

        async with asyncio.timeout(10):
            while (await school.get("/ready")).status_code != 200:
                await asyncio.sleep(0.05)
        # Back on Redis: the revocation and the dropped ranking made during the outage hold.
        assert (await school.get("/api/v1/progress", headers=ada)).status_code == 401
        assert await _popular(school) == [(second, 1), (first, 0)]
        another_process = RedisCache(redis_url)
        try:
            revoked = [
                key async for key in another_process._redis.scan_iter("security:revoked-jti:*")
            ]
        finally:
            await another_process.close()
        assert len(revoked) == 1
        fresh = await _login(people)
        assert fresh.status_code == 200  # counters of the outage stayed in this process
