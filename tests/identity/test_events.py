"""Events identity publishes: written to the outbox in the business transaction, and published
by the relay to every queue bound to `identity.#`."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select

from bandstand.platform.messaging import Broker, Message
from bandstand.platform.messaging.outbox import outbox_table
from tests.identity.conftest import CLIENT_IP, USER_PASSWORD, IdentityHarness, Tokens

REGISTER = {"username": "alice", "email": "alice@example.com", "password": "correct-horse-1"}


def _check_envelope(message: dict[str, Any], type_: str) -> None:
    assert message["type"] == type_
    assert message["source"] == "identity"
    uuid.UUID(message["id"])
    assert datetime.fromisoformat(message["occurred_at"]).utcoffset() is not None


async def test_register_publishes_registered(
    identity: IdentityHarness, client: httpx.AsyncClient
) -> None:
    user = (await client.post("/api/v1/register", json=REGISTER)).json()["user"]

    (event,) = await identity.outbox()
    _check_envelope(event, "identity.user.registered")
    assert event["payload"] == {
        "user_id": user["id"],
        "username": "alice",
        "email": "alice@example.com",
        "role": "user",
        "actor_id": None,
    }


async def test_login_publishes_logged_in(
    identity: IdentityHarness, client: httpx.AsyncClient
) -> None:
    response = await client.post(
        "/api/v1/login",
        json={"username": "member", "password": USER_PASSWORD},
        headers={"User-Agent": "tests/1.0"},
    )
    assert response.status_code == 200

    (event,) = await identity.outbox()
    _check_envelope(event, "identity.user.logged_in")
    payload = event["payload"]
    assert payload["user_id"] == identity.member.id
    assert payload["actor_id"] == identity.member.id
    assert (payload["ip_address"], payload["user_agent"]) == (CLIENT_IP, "tests/1.0")


async def test_updates_publish_updated_with_the_changed_fields(
    identity: IdentityHarness,
    client: httpx.AsyncClient,
    member_tokens: Tokens,
    admin_tokens: Tokens,
) -> None:
    await client.put(
        "/api/v1/profile",
        json={"first_name": "Mem", "last_name": ""},  # last_name is unchanged
        headers=member_tokens.headers,
    )
    await client.put(
        f"/api/v1/users/{identity.member.id}",
        json={"role": "instructor"},
        headers=admin_tokens.headers,
    )
    await client.post(
        "/api/v1/profile/password",
        json={"current_password": USER_PASSWORD, "new_password": "brand-new-secret"},
        headers=member_tokens.headers,
    )

    events = await identity.outbox()
    for event in events:
        _check_envelope(event, "identity.user.updated")
        assert event["payload"]["user_id"] == identity.member.id
    assert [(e["payload"]["changed"], e["payload"]["actor_id"]) for e in events] == [
        (["first_name"], identity.member.id),
        (["role"], identity.admin.id),
        (["password"], identity.member.id),
    ]
    assert events[1]["payload"]["role"] == "instructor"
    assert "$argon2" not in json.dumps(events)


async def test_delete_publishes_deleted(
    identity: IdentityHarness, client: httpx.AsyncClient, admin_tokens: Tokens
) -> None:
    await client.delete(f"/api/v1/users/{identity.member.id}", headers=admin_tokens.headers)

    (event,) = await identity.outbox()
    _check_envelope(event, "identity.user.deleted")
    assert event["payload"] == {"user_id": identity.member.id, "actor_id": identity.admin.id}


async def test_refused_requests_publish_nothing(
    identity: IdentityHarness, client: httpx.AsyncClient, member_tokens: Tokens
) -> None:
    await client.post("/api/v1/register", json={**REGISTER, "username": "MEMBER"})
    await client.post("/api/v1/login", json={"username": "member", "password": "wrong-password"})
    await client.put("/api/v1/profile", json={"username": "boss"}, headers=member_tokens.headers)
    await client.put("/api/v1/profile", json={}, headers=member_tokens.headers)
    await client.delete(f"/api/v1/users/{identity.admin.id}", headers=member_tokens.headers)

    assert await identity.outbox() == []


async def _drain(broker: Broker, queue: str, count: int, timeout: float = 10.0) -> list[Message]:
    messages: list[Message] = []
    deadline = asyncio.get_running_loop().time() + timeout
    while len(messages) < count:
        assert asyncio.get_running_loop().time() < deadline, f"got only {messages}"
        delivery = await broker.get(queue)
        if delivery is None:
            await asyncio.sleep(0.05)
            continue
        messages.append(delivery.message)
        await delivery.ack()
    return messages


async def test_the_relay_delivers_events_to_a_queue_bound_to_identity(
    identity: IdentityHarness, client: httpx.AsyncClient
) -> None:
    broker: Broker = identity.app.state.runtime.broker
    queue = f"tests.identity-events.{uuid.uuid4().hex[:8]}"
    await broker.declare_queue(queue, ["identity.#"])

    user = (await client.post("/api/v1/register", json=REGISTER)).json()["user"]
    login = await client.post(
        "/api/v1/login", json={"username": "alice", "password": REGISTER["password"]}
    )
    tokens = Tokens(login.json()["access_token"], login.json()["refresh_token"])
    await client.put("/api/v1/profile", json={"last_name": "L"}, headers=tokens.headers)
    admin = await identity.tokens(identity.admin)
    await client.delete(f"/api/v1/users/{user['id']}", headers=admin.headers)

    received = await _drain(broker, queue, 4)

    assert [message.type for message in received] == [
        "identity.user.registered",
        "identity.user.logged_in",
        "identity.user.updated",
        "identity.user.deleted",
    ]
    assert all(message.payload["user_id"] == user["id"] for message in received)
    outbox = await identity.outbox()
    assert [message.id for message in received] == [event["id"] for event in outbox]
    assert await broker.get(queue) is None

    async def all_stamped() -> bool:
        # The relay stamps `published_at` after the broker confirmed, so a consumer may see
        # the messages a moment before the stamps.
        async with identity.database.session() as session:
            published = await session.execute(select(outbox_table.c.published_at))
            return all(moment is not None for (moment,) in published)

    deadline = asyncio.get_running_loop().time() + 10
    while not await all_stamped():
        assert asyncio.get_running_loop().time() < deadline, "outbox rows never stamped"
        await asyncio.sleep(0.05)
