"""Every response matches its own OpenAPI document.

Schemathesis runs over each service's own document (the service reached directly, as in
distributed mode) and over the gateway's merged one, in process over ASGI on SQLite, with a
token of each role (see `RUNS`). Every phase (examples, coverage, fuzzing, stateful) and five
checks: no 500, only documented statuses, content types and bodies, and invalid requests
refused. The run is repeatable and bounded: a fixed seed, derandomized generation and
`MAX_EXAMPLES` (each run logs its size: `-o log_cli=true --log-cli-level=INFO`).

The admin's session must outlive the run, so logout and password changes are exercised only
with a dedicated account (`session`), and no run may change or delete the accounts whose tokens
the runs use.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema
from schemathesis.python import asgi
from starlette.types import ASGIApp, Receive, Scope, Send

from bandstand import registry
from bandstand.gateway.app import create_gateway_app
from bandstand.gateway.upstream import InProcessUpstream, Upstream
from bandstand.identity.commands import create_superuser
from bandstand.platform.directory import asgi_probe
from bandstand.platform.migrations import upgrade_blocking
from bandstand.platform.runtime import Runtime
from bandstand.platform.settings import Settings
from tests.support.servers import PostgresServer

logger = logging.getLogger(__name__)
SEED = 20261213
MAX_EXAMPLES = int(os.environ.get("BANDSTAND_CONFORMANCE_EXAMPLES", "3"))
# `postgres` runs the same on the private PostgreSQL server (not in CI: it doubles the time).
ENGINE = os.environ.get("BANDSTAND_CONFORMANCE_ENGINE", "sqlite")
PHASES = ("examples", "coverage", "fuzzing", "stateful")
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
)
# What refusing an invalid request may answer: Schemathesis's list, and 413 for a body refused
# for its size before anything else was read.
REFUSALS = [*map(str, (400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429)), "5xx"]
PASSWORD = "Conformance-Pass-1"
# Routes that end the caller's session or change its password: only the `session` account.
SESSION_ENDING = re.compile(r"^/api/v1/(logout|profile/password)$")
# Routes that change or delete an account by id.
ACCOUNT_BY_ID = re.compile(r"^(/api/v1)?/users/\{[^}]+\}$")


@dataclass
class Stack:
    gateway: ASGIApp
    services: dict[str, ASGIApp]
    tokens: dict[str, str]


class ServiceBehindGateway:
    """A service app reached directly, whose lifespan is the gateway's: starting the gateway
    starts every service (and their shared runtime) once. Schemathesis's pytest plugin ends
    every ASGI lifespan after each test, and starts it again on the next request."""

    def __init__(self, app: ASGIApp, gateway: ASGIApp) -> None:
        self.app = app
        self.gateway = gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = self.gateway if scope["type"] == "lifespan" else self.app
        await target(scope, receive, send)


def _settings(data_dir: Path, databases: dict[str, str]) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=data_dir,
        databases=databases,
        broker_url=f"embedded://{data_dir / 'broker.sqlite3'}",
        cache_url="memory://",
        log_json=False,
        access_log=False,
        outbox_poll_seconds=0.2,
        public_cache_seconds=0,
    )


def _login(client: asgi.ASGIClient, username: str) -> tuple[int, str]:
    response = client.post("/api/v1/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    body = response.json()
    return int(body["user"]["id"]), str(body["access_token"])


def _account(client: asgi.ASGIClient, username: str) -> tuple[int, str]:
    registered = client.post(
        "/api/v1/register",
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
    )
    assert registered.status_code == 201, registered.text
    return _login(client, username)


@pytest.fixture(scope="module")
def databases(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """Each service's database URL on PostgreSQL; none (SQLite files) by default."""
    if ENGINE != "postgres":
        yield {}
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    names = {
        service: f"conformance_{service}_{uuid.uuid4().hex[:8]}"
        for service in registry.with_database()
    }
    for name in names.values():
        server.create_database(name)
    yield {service: server.url(name) for service, name in names.items()}
    for name in names.values():
        server.drop_database(name)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, databases: dict[str, str]) -> Iterator[Stack]:
    settings = _settings(tmp_path_factory.mktemp("conformance"), databases)
    for entry in registry.SERVICES:
        if entry.has_database:
            upgrade_blocking(settings.database_url(entry.name), entry.name, entry.migrations)
    asyncio.run(create_superuser(settings, "chief", "chief@example.com", PASSWORD))
    runtime = Runtime(settings)
    upstreams: dict[str, Upstream] = {}
    for entry in registry.SERVICES:
        app = entry.create_app(runtime)
        upstreams[entry.name] = InProcessUpstream(entry.name, app)
        runtime.services.register(entry.name, asgi_probe(app))
    gateway = create_gateway_app(registry.route_table(), upstreams, settings, access_log=False)
    services = {
        name: ServiceBehindGateway(upstream.app, gateway)
        for name, upstream in upstreams.items()
        if isinstance(upstream, InProcessUpstream)
    }
    with asgi.get_client(gateway) as client:
        admin_id, admin = _login(client, "chief")
        ids = {"admin": admin_id}
        tokens = {"admin": admin}
        for role in ("user", "instructor", "session"):
            ids[role], tokens[role] = _account(client, f"conformance-{role}")
        promoted = client.put(
            f"/api/v1/users/{ids['instructor']}",
            json={"role": "instructor"},
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert promoted.status_code == 200, promoted.text
        _, tokens["instructor"] = _login(client, "conformance-instructor")
        with _accounts_kept(set(ids.values())):
            yield Stack(gateway, services, tokens)
    asgi.shutdown_lifespans()


def _config(token: str) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "headers": {"Authorization": f"Bearer {token}"},
            "workers": 1,
            "cache": {"enabled": False},
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            "phases": {name: {"enabled": True} for name in PHASES},
            "checks": {
                "enabled": False,
                **{name: {"enabled": True} for name in CHECKS},
                "negative_data_rejection": {"enabled": True, "expected-statuses": REFUSALS},
            },
        }
    )


@contextmanager
def _accounts_kept(protected_ids: set[int]) -> Iterator[None]:
    """Aim changes and deletions of the runs' own accounts at an id that does not exist."""
    protected = {str(user_id) for user_id in protected_ids}

    def before_call(context: Any, case: Any, kwargs: Any) -> None:
        if case.method.upper() == "GET" or not ACCOUNT_BY_ID.match(case.path):
            return
        for name, value in (case.path_parameters or {}).items():
            if str(value) in protected:
                case.path_parameters[name] = 2_000_000_000

    schemathesis.hook(before_call)
    try:
        yield
    finally:
        schemathesis.hooks.unregister(before_call)


@dataclass
class Outcome:
    operations: set[str]
    requests: int
    failures: list[str]


def _run(schema: Any) -> Outcome:
    outcome = Outcome(set(), 0, [])
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            if recorder.interactions and event.is_test_scenario:
                outcome.operations.add(recorder.label)
                outcome.requests += len(recorder.interactions)
            outcome.failures.extend(_failures(recorder))
        elif isinstance(event, events.NonFatalError):
            outcome.failures.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            outcome.failures.append(f"fatal: {event.exception!r}")
    return outcome


def _failures(recorder: Any) -> list[str]:
    failures: list[str] = []
    for case_id, checks in recorder.checks.items():
        for check in checks:
            if check.failure_info is None:
                continue
            failure = check.failure_info.failure
            response = recorder.find_response(case_id=case_id)
            answer = f"{response.status_code} {response.content[:300]!r}" if response else ""
            failures.append(
                f"{recorder.label} [{failure.title}] {failure.message}\n"
                f"    {check.failure_info.code_sample}\n    -> {answer}"
            )
    return failures


def _schema(app: ASGIApp, token: str, role: str) -> Any:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=_config(token))
    if role == "session":
        schema = schema.include(path_regex=SESSION_ENDING.pattern)
    else:
        schema = schema.exclude(path_regex=SESSION_ENDING.pattern)
    return schema


# Every document and every role, each pair checked once, in a bounded time (the coverage phase,
# some 45 requests an operation, is most of it): the gateway's merged document, which every
# client sees, as the admin, who reaches the most of it; each service's own document (the
# service reached directly, its /health and /ready included) as a user; academy's as an
# instructor, the one role that changes nothing elsewhere; the session-ending routes with their
# own account.
RUNS = [
    ("gateway", "admin"),
    # The web serves pages, not an API: it has no operations to check.
    *((entry.name, "user") for entry in registry.SERVICES if not entry.calls_platform),
    ("academy", "instructor"),
    ("gateway", "session"),
]


@pytest.mark.parametrize(("document", "role"), RUNS, ids=[f"{d}-{r}" for d, r in RUNS])
def test_responses_match_the_document(
    stack: Stack, document: str, role: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = stack.gateway if document == "gateway" else stack.services[document]
    schema = _schema(app, stack.tokens[role], role)
    with caplog.at_level(logging.WARNING, logger="bandstand"):
        outcome = _run(schema)
    logged = [
        f"{record.levelname} {record.name}: {record.getMessage()}\n{record.exc_text or ''}"
        for record in caplog.records
        if record.levelno >= logging.ERROR
    ]
    assert outcome.operations, "no operation was tested"
    logger.info(
        "%s as %s: %d operations, %d requests",
        document,
        role,
        len(outcome.operations),
        outcome.requests,
    )
    assert not outcome.failures, "\n".join([*outcome.failures, "", "Logged:", *logged])
