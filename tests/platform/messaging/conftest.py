"""Fixtures of the messaging tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bandstand.platform.messaging.embedded import EmbeddedBroker
from tests.platform.messaging.helpers import FAST_RETRY


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[EmbeddedBroker]:
    """An embedded broker on a temp file, with short retry delays and polling."""
    broker = EmbeddedBroker(
        tmp_path / "broker.sqlite3", retry=FAST_RETRY, poll_interval=0.02, visibility_timeout=5
    )
    await broker.connect()
    yield broker
    await broker.close()
