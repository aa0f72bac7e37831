"""pytest plugin: private PostgreSQL, RabbitMQ and Redis servers for a test session.

Enable it with ``pytest_plugins = ["tests.support.fixtures"]``.

Each server starts lazily, the first time a test asks for it, and at most once per session.
When an engine cannot be started, the tests that need it are skipped with the reason, or fail
when the environment variable ``BANDSTAND_REQUIRE_ENGINES`` is set to ``1``.

The function-scoped fixtures (``postgres_url_factory``, ``postgres_url``, ``rabbitmq_url`` and
``redis_url``) restart a server that an earlier test stopped and hand each test clean state.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from typing import NoReturn, TypeVar

import pytest

from tests.support.databases import MigratedDatabases
from tests.support.servers import (
    EngineUnavailable,
    PostgresServer,
    RabbitMQServer,
    RedisServer,
)

REQUIRE_ENGINES_ENV = "BANDSTAND_REQUIRE_ENGINES"

_ServerT = TypeVar("_ServerT", PostgresServer, RabbitMQServer, RedisServer)


def engines_required() -> bool:
    """Whether a missing or broken engine is a failure rather than a reason to skip."""
    return os.environ.get(REQUIRE_ENGINES_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def _unavailable(reason: str) -> NoReturn:
    if engines_required():
        pytest.fail(f"{reason}\n({REQUIRE_ENGINES_ENV} is set, so this is an error)", pytrace=False)
    pytest.skip(reason)


def _session_server(server: _ServerT, engine: str) -> Iterator[_ServerT]:
    try:
        server.start()
    except EngineUnavailable as exc:
        server.cleanup()
        _unavailable(f"{engine} is unavailable: {exc}")
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A private PostgreSQL server for the whole session."""
    yield from _session_server(PostgresServer(), "PostgreSQL")


@pytest.fixture(scope="session")
def rabbitmq_server() -> Iterator[RabbitMQServer]:
    """A private RabbitMQ node for the whole session."""
    yield from _session_server(RabbitMQServer(), "RabbitMQ")


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A private Redis server for the whole session."""
    yield from _session_server(RedisServer(), "Redis")


def _database_name(prefix: str) -> str:
    stem = re.sub(r"[^a-z0-9_]+", "_", prefix.lower()).strip("_")[:40].lstrip("0123456789_")
    return f"{stem or 'test'}_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def postgres_url_factory(postgres_server: PostgresServer) -> Iterator[Callable[[str], str]]:
    """``make(prefix) -> url``: create a fresh, uniquely named database and return its
    SQLAlchemy (asyncpg) URL. The databases are dropped when the test ends."""
    created: list[str] = []

    def make(prefix: str) -> str:
        postgres_server.start()
        name = _database_name(prefix)
        postgres_server.create_database(name)
        created.append(name)
        return postgres_server.url(name)

    yield make
    if created:
        postgres_server.start()
        for name in created:
            postgres_server.drop_database(name)


@pytest.fixture
def postgres_url(postgres_url_factory: Callable[[str], str]) -> str:
    """The SQLAlchemy (asyncpg) URL of a fresh database, dropped when the test ends."""
    return postgres_url_factory("test")


@pytest.fixture
def rabbitmq_url(rabbitmq_server: RabbitMQServer) -> str:
    """The AMQP URL of the session's broker, with every queue and exchange deleted."""
    rabbitmq_server.start()
    rabbitmq_server.reset()
    return rabbitmq_server.url


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The URL of the session's Redis server, flushed."""
    redis_server.start()
    redis_server.flushall()
    return redis_server.url


@pytest.fixture(scope="session")
def _migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> MigratedDatabases:
    return MigratedDatabases(tmp_path_factory.mktemp("migrated-templates"))


@pytest.fixture
def migrated_databases(
    _migrated_templates: MigratedDatabases, request: pytest.FixtureRequest
) -> MigratedDatabases:
    """Fresh migrated databases per test: `await migrated_databases.fresh(engine, ...)`.

    The PostgreSQL server is asked for only when a test uses that engine; its databases go with
    it at the end of the session."""

    def postgres() -> PostgresServer:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        return server

    _migrated_templates.use_postgres(postgres)
    return _migrated_templates
