"""A message that kills its worker every time is dead-lettered after 5 tries (the messaging layer
counts the deliveries of a worker that died, in both brokers), and a broker that is down makes
the dead-letter routes answer 503."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bandstand.billing.events import BILLING_QUEUE
from bandstand.billing.worker import MAX_ATTEMPTS, BillingWorker
from bandstand.platform.messaging import BrokerUnavailable, RetryPolicy, create_broker
from bandstand.platform.settings import Settings
from tests.billing.conftest import ORDER, Billing, RunningWorker
from tests.platform.messaging.helpers import next_delivery
from tests.support.waiting import eventually


@pytest.fixture
def billing_broker_url(request: pytest.FixtureRequest, engine: str, tmp_path: Path) -> str:
    """SQLite with the embedded broker, and PostgreSQL with RabbitMQ."""
    if engine == "sqlite":
        # The message of a worker that died comes back when its lock expires: after 0.3 s.
        return f"embedded://{tmp_path / 'broker.sqlite3'}?visibility_timeout=0.3"
    url: str = request.getfixturevalue("rabbitmq_url")
    return url


async def test_a_message_that_kills_its_worker_every_time_is_dead_lettered_after_5_tries(
    billing: Billing, worker_settings: Settings
) -> None:
    response = await billing.client.post(
        "/api/v1/billing/orders", json=ORDER, headers=billing.alice
    )
    assert response.status_code == 202, response.text
    settings = billing.app.state.runtime.settings
    for attempt in range(1, MAX_ATTEMPTS + 1):
        # A worker takes the order's message and dies before it settles it.
        dying = create_broker(
            settings.broker_url, settings.data_dir, retry=RetryPolicy(base_delay=0.05)
        )
        await dying.connect()
        delivery = await next_delivery(dying, BILLING_QUEUE)
        assert delivery.attempts == attempt
        await dying.close()

    async def dead() -> dict[str, Any] | None:
        response = await billing.client.get("/api/v1/billing/dead-letters", headers=billing.admin)
        body: dict[str, Any] = response.json()
        return body if body["count"] else None

    async with RunningWorker(BillingWorker(worker_settings)):
        listed = await eventually(dead)
    [letter] = listed["results"]
    assert letter["order_id"] == response.json()["id"]
    [order] = await billing.orders()
    assert order.status == "pending"  # no worker got to bill it


async def test_dead_letters_answer_503_while_the_broker_is_down(
    billing: Billing, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def down(*_args: object, **_kwargs: object) -> None:
        raise BrokerUnavailable("test: broker down")

    broker = billing.app.state.runtime.broker
    monkeypatch.setattr(broker, "get", down)
    monkeypatch.setattr(broker, "queue_depth", down)
    for method, path in [
        ("GET", "/api/v1/billing/dead-letters"),
        ("POST", "/api/v1/billing/dead-letters/redrive"),
    ]:
        response = await billing.client.request(method, path, headers=billing.admin)
        assert response.status_code == 503
        assert response.json() == {"detail": "Message broker unavailable, try again shortly"}
