"""A message whose body is not a message is parked in billing_queue.dlq, never dropped: listed
with its raw body (as often as one looks), re-driven by id, or deleted by an admin.

On SQLite with the embedded broker, and on PostgreSQL with RabbitMQ."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime
from typing import Any

import aio_pika
import pytest

from bandstand.billing.events import BILLING_QUEUE, ORDER_CREATED
from bandstand.billing.worker import BillingWorker
from bandstand.platform.messaging import Message
from bandstand.platform.messaging.embedded import EmbeddedBroker
from tests.billing.conftest import Billing
from tests.support.waiting import eventually

RAW = b'{"order_id": "not closed'
DEAD_LETTERS = "/api/v1/billing/dead-letters"


@pytest.fixture
def billing_broker_url(request: pytest.FixtureRequest, engine: str) -> str | None:
    if engine == "sqlite":
        return None
    url: str = request.getfixturevalue("rabbitmq_url")
    return url


async def send_raw(billing: Billing, body: bytes, message_id: str) -> None:
    """Put `body` on billing_queue as a foreign producer would: bypassing `Message`."""
    broker = billing.app.state.runtime.broker
    if isinstance(broker, EmbeddedBroker):
        with sqlite3.connect(broker.path) as db:
            now = time.time()
            db.execute(
                "INSERT INTO messages (queue, message_id, routing_key, body, available_at,"
                " created_at) VALUES (?, ?, '', ?, ?, ?)",
                (BILLING_QUEUE, message_id, body.decode(), now, now),
            )
        return
    connection = await aio_pika.connect(billing.app.state.runtime.settings.broker_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        await channel.default_exchange.publish(
            aio_pika.Message(body=body, message_id=message_id), routing_key=BILLING_QUEUE
        )


async def listed(billing: Billing) -> dict[str, Any]:
    response = await billing.client.get(DEAD_LETTERS, headers=billing.admin)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_malformed_dead_letter_is_parked_listed_redriven_and_deleted(
    billing: Billing, worker: BillingWorker
) -> None:
    await send_raw(billing, RAW, "foreign-1")

    async def parked() -> dict[str, Any] | None:
        body = await listed(billing)
        return body if body["results"] else None

    first = await eventually(parked)
    [letter] = first["results"]
    assert letter["message_id"] == "foreign-1"
    assert letter["malformed"] is True
    assert letter["body"] == RAW.decode()
    assert letter["error"]
    assert letter["type"] is None
    assert letter["payload"] is None
    # Looking again finds it again: listing keeps it.
    for _ in range(3):
        again = await listed(billing)
        assert again["count"] == 1
        assert [entry["message_id"] for entry in again["results"]] == ["foreign-1"]

    # Re-driving everything leaves it parked: no worker can read it.
    everything = await billing.client.post(
        f"{DEAD_LETTERS}/redrive", json={}, headers=billing.admin
    )
    assert everything.json() == {"redriven": 0, "message_ids": []}
    assert (await listed(billing))["count"] == 1

    # Re-driving it by id puts its body back on billing_queue; the worker cannot read it
    # either, so it comes back to the dead letters, unchanged.
    one = await billing.client.post(
        f"{DEAD_LETTERS}/redrive", json={"message_ids": ["foreign-1"]}, headers=billing.admin
    )
    assert one.json() == {"redriven": 1, "message_ids": ["foreign-1"]}
    back = await eventually(parked)
    assert back["results"][0]["body"] == RAW.decode()

    deleted = await billing.client.delete(f"{DEAD_LETTERS}/foreign-1", headers=billing.admin)
    assert deleted.status_code == 204, deleted.text
    assert (await listed(billing)) == {"queue": "billing_queue.dlq", "count": 0, "results": []}
    missing = await billing.client.delete(f"{DEAD_LETTERS}/foreign-1", headers=billing.admin)
    assert missing.status_code == 404


async def test_the_list_is_written_exactly_and_looking_changes_nothing(
    billing: Billing, worker: BillingWorker
) -> None:
    at = datetime(2027, 1, 10, 8, 0, 0, 1, tzinfo=UTC)
    payload = {"order_id": "not-a-uuid", "n": 1, "note": 'é ✓ "quoted"'}
    poison = Message("poison-1", ORDER_CREATED, at, payload, "billing")
    await worker.broker.publish([poison], queue=BILLING_QUEUE)
    await eventually(lambda: _dead_count(worker, 1))
    await send_raw(billing, RAW, "foreign-2")
    await eventually(lambda: _dead_count(worker, 2))

    with pytest.raises(json.JSONDecodeError) as unreadable:
        json.loads(RAW)
    error = f"message body is not JSON: {unreadable.value}"
    expected = {
        "queue": "billing_queue.dlq",
        "count": 2,
        "results": [
            {
                "message_id": "poison-1",
                "type": ORDER_CREATED,
                "occurred_at": "2027-01-10T08:00:00.000001Z",
                "order_id": None,
                "payload": payload,
                "malformed": False,
                "error": None,
                "body": None,
            },
            {
                "message_id": "foreign-2",
                "type": None,
                "occurred_at": None,
                "order_id": None,
                "payload": None,
                "malformed": True,
                "error": error,
                "body": RAW.decode(),
            },
        ],
    }
    written = json.dumps(expected, separators=(",", ":"), ensure_ascii=False).encode()
    for _ in range(3):
        response = await billing.client.get(DEAD_LETTERS, headers=billing.admin)
        assert response.content == written
    first = await billing.client.get(f"{DEAD_LETTERS}?limit=1", headers=billing.admin)
    assert first.json() == {**expected, "results": expected["results"][:1]}
    assert await _dead_count(worker, 2)


async def _dead_count(worker: BillingWorker, expected: int) -> bool:
    return await worker.broker.queue_depth(f"{BILLING_QUEUE}.dlq") == expected


async def test_deleting_dead_letters_is_for_admins(billing: Billing) -> None:
    response = await billing.client.delete(f"{DEAD_LETTERS}/anything", headers=billing.alice)
    assert response.status_code == 403
