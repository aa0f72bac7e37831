"""The sample service (`sample_service.py`) served to a client, shared by its tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from bandstand.platform.settings import Settings
from tests.platform import sample_service
from tests.platform.test_service_app import build_app
from tests.support.client import api_client


@pytest.fixture
async def sample_client(
    make_settings: Callable[..., Settings], database_urls: Callable[[str], str]
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the sample service (its app as `client.app`), its tables created."""
    settings = make_settings(databases={"sample": database_urls("sample")})
    app = build_app(settings)
    async with app.state.database.engine.begin() as connection:
        await connection.run_sync(sample_service.SampleBase.metadata.create_all)
    async with api_client(app, raise_app_exceptions=False) as http:
        http.app = app  # type: ignore[attr-defined]
        yield http
