"""Fixtures shared by every test: settings on a temp data dir, engines, and API clients."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import hypothesis
import pytest

from bandstand.platform.settings import Settings
from tests.support.tokens import TokenFactory

pytest_plugins = ["tests.support.fixtures"]

# CI (`HYPOTHESIS_PROFILE=ci` in .ci/run) explores the same examples on every run, so a landing
# never depends on the draw; locally each run draws anew and remembers what failed.
hypothesis.settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("HYPOTHESIS_PROFILE"):
    hypothesis.settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> str:
    """Run a test once on SQLite and once on the real PostgreSQL server."""
    return str(request.param)


@pytest.fixture
def tokens() -> TokenFactory:
    """Signs access tokens as identity does; the services under test trust its key."""
    return TokenFactory()


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def build(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "data_dir": tmp_path,
            "broker_url": f"embedded://{tmp_path / 'broker.sqlite3'}",
            "cache_url": "memory://",
            "log_json": False,
            "access_log": False,
            "outbox_poll_seconds": 0.2,
            # Tests read what they just wrote; the public response cache has its own tests.
            "public_cache_seconds": 0,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[arg-type]

    return build


@pytest.fixture
async def database_urls(
    engine: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Callable[[str], str]]:
    """A fresh database URL per service name, on the engine under test."""
    if engine == "sqlite":
        yield lambda service: f"sqlite+aiosqlite:///{tmp_path / f'{service}.sqlite3'}"
        return
    factory = request.getfixturevalue("postgres_url_factory")
    yield factory
