"""The broker for a URL: the one module that knows every backend (they import only `broker`)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from bandstand.platform.messaging.broker import Broker, RetryPolicy
from bandstand.platform.messaging.embedded import EmbeddedBroker
from bandstand.platform.messaging.rabbitmq import RabbitMQBroker


def create_broker(url: str, data_dir: Path, *, retry: RetryPolicy | None = None) -> Broker:
    """The broker for a URL: `embedded://` (SQLite in `data_dir`), `embedded:///file`, `amqp://`.

    The embedded broker takes `?visibility_timeout=SECONDS` (default 60)."""
    policy = retry or RetryPolicy()
    parts = urlsplit(url)
    if parts.scheme == "embedded":
        location = f"{parts.netloc}{parts.path}"
        path = Path(location) if location else Path("broker.sqlite3")
        # `?visibility_timeout=S`: how soon the message of a consumer that died comes back.
        query = dict(parse_qsl(parts.query))
        unknown = set(query) - {"visibility_timeout"}
        if unknown:
            raise ValueError(f"unknown embedded broker options: {sorted(unknown)}")
        options = {key: float(value) for key, value in query.items()}
        return EmbeddedBroker(
            path if path.is_absolute() else data_dir / path, retry=policy, **options
        )
    if parts.scheme in ("amqp", "amqps"):
        return RabbitMQBroker(url, retry=policy)
    raise ValueError(f"unsupported broker URL scheme: {parts.scheme!r}")
