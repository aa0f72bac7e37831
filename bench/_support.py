"""What benchmarks take from the test support package: the private PostgreSQL, RabbitMQ and
Redis servers, the in-process API client (and the app lifespan it runs) and tokens signed as
identity signs them.

Benchmarks run as `python bench/<name>.py`, which puts `bench/` on the import path but not the
repository root that holds `tests/`; this module adds it, so that the servers have one home.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.client import api_client, lifespan  # noqa: E402
from tests.support.servers import PostgresServer, RabbitMQServer, RedisServer  # noqa: E402
from tests.support.tokens import TokenFactory  # noqa: E402

__all__ = [
    "PostgresServer",
    "RabbitMQServer",
    "RedisServer",
    "TokenFactory",
    "api_client",
    "lifespan",
]
