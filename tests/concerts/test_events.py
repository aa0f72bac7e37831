"""Events the concerts service publishes: written to the outbox in the business transaction, and
published by the relay to the queues bound to them."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any

import httpx

from bandstand.platform.messaging import Broker
from tests.concerts.conftest import ADMIN_ID, ALICE_ID, CONCERT, Concerts


def _check_envelope(message: dict[str, Any], type_: str) -> None:
    assert message["type"] == type_
    assert message["source"] == "concerts"
    uuid.UUID(message["id"])
    assert datetime.fromisoformat(message["occurred_at"]).utcoffset() is not None


CONCERT_FIELDS = {
    "concert_name": CONCERT["concert_name"],
    "duration": CONCERT["duration"],
    "city": CONCERT["city"],
    "date": CONCERT["date"],
    "venue": CONCERT["venue"],
    "description": CONCERT["description"],
    "picture_id": CONCERT["picture_id"],
}


async def test_concert_lifecycle_events(concerts: Concerts, client: httpx.AsyncClient) -> None:
    created = (await client.post("/api/v1/concerts", json=CONCERT, headers=concerts.admin)).json()
    path = f"/api/v1/concerts/{created['id']}"
    await client.patch(
        path, json={"duration": 85, "venue": CONCERT["venue"]}, headers=concerts.admin
    )
    await client.patch(path, json={"duration": 85}, headers=concerts.admin)  # no change, no event
    await client.put(path, json={**CONCERT, "city": "Hamburg"}, headers=concerts.admin)
    await client.delete(path, headers=concerts.admin)

    created_event, patched, replaced, deleted = await concerts.outbox()
    _check_envelope(created_event, "concerts.concert.created")
    assert created_event["payload"] == {
        "concert_id": created["id"],
        **CONCERT_FIELDS,
        "actor_id": ADMIN_ID,
    }
    _check_envelope(patched, "concerts.concert.updated")
    assert patched["payload"]["changed"] == ["duration"]
    assert patched["payload"]["duration"] == 85
    _check_envelope(replaced, "concerts.concert.updated")
    assert sorted(replaced["payload"]["changed"]) == ["city", "duration"]
    assert replaced["payload"]["city"] == "Hamburg"
    _check_envelope(deleted, "concerts.concert.deleted")
    assert deleted["payload"] == {"concert_id": created["id"], "actor_id": ADMIN_ID}


async def test_attendance_changes_carry_the_previous_status(
    concerts: Concerts, client: httpx.AsyncClient
) -> None:
    concert_id = await concerts.add_concert()
    path = f"/api/v1/concerts/{concert_id}/attendance"
    for status in ("Attending", "Attending", "Not Attending", "-", "-", "Attending"):
        response = await client.put(path, json={"status": status}, headers=concerts.alice)
        assert response.status_code == 200

    events = await concerts.outbox()
    for message in events:
        _check_envelope(message, "concerts.attendance.changed")
    assert [message["payload"] for message in events] == [
        {"concert_id": concert_id, "user_id": ALICE_ID, "status": new, "previous_status": old}
        for old, new in (
            ("-", "Attending"),
            ("Attending", "Not Attending"),
            ("Not Attending", "-"),
            ("-", "Attending"),
        )
    ]


async def test_a_refused_write_publishes_nothing(
    concerts: Concerts, client: httpx.AsyncClient
) -> None:
    await client.post("/api/v1/concerts", json={**CONCERT, "duration": 0}, headers=concerts.admin)
    await client.post("/api/v1/concerts", json=CONCERT, headers=concerts.alice)
    await client.put(
        "/api/v1/concerts/999/attendance", json={"status": "Attending"}, headers=concerts.alice
    )
    assert await concerts.outbox() == []


async def test_the_relay_publishes_to_bound_queues(
    concerts: Concerts, client: httpx.AsyncClient
) -> None:
    broker: Broker = concerts.app.state.runtime.broker
    await broker.declare_queue("tests.concerts-events", ["concerts.#"])
    created = (await client.post("/api/v1/concerts", json=CONCERT, headers=concerts.admin)).json()

    async with asyncio.timeout(10):
        while (delivery := await broker.get("tests.concerts-events")) is None:
            await asyncio.sleep(0.02)
    assert delivery.message.type == "concerts.concert.created"
    assert delivery.message.payload["concert_id"] == created["id"]
    await delivery.ack()
