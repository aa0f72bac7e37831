"""The in-process platform for the pages' fast tests (tests/web/browser has its own)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from bandstand.platform.settings import Settings
from tests.web.inprocess import Pages, migrated, pages_of


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return migrated(make_settings())  # blocking: before the test's event loop runs


@pytest.fixture
async def pages(settings: Settings) -> AsyncIterator[Pages]:
    async with pages_of(settings) as pages:
        yield pages
