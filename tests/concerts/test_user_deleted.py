"""`identity.user.deleted` erases the user's attendance: once per message, whatever the number of
deliveries, through the app's own subscription, and end to end from identity's API."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

import bandstand.identity
from bandstand.concerts import app as concerts_app
from bandstand.concerts.events import IDENTITY_QUEUE, on_user_deleted
from bandstand.identity import app as identity_app
from bandstand.identity.models import IdentityBase, User
from bandstand.platform.database import Database
from bandstand.platform.messaging import Broker, Message
from bandstand.platform.messaging.idempotency import processed_messages_table
from bandstand.platform.runtime import Runtime
from bandstand.platform.settings import Settings
from tests.concerts.conftest import ALICE_ID, BOB_ID, Concerts
from tests.support.client import api_client
from tests.support.databases import MigratedDatabases
from tests.support.waiting import eventually

IDENTITY_MIGRATIONS = Path(bandstand.identity.__file__).parent / "migrations"


def user_deleted(user_id: object) -> Message:
    return Message.new("identity.user.deleted", {"user_id": user_id, "actor_id": 1}, "identity")


async def _processed(concerts: Concerts, message_id: str) -> bool:
    async with concerts.database.session() as session:
        statement = (
            select(func.count())
            .select_from(processed_messages_table)
            .where(processed_messages_table.c.message_id == message_id)
        )
        return int((await session.execute(statement)).scalar_one()) == 1


async def test_a_redelivered_event_changes_nothing(concerts: Concerts) -> None:
    first = await concerts.add_concert("First")
    second = await concerts.add_concert("Second")
    await concerts.add_attendance(ALICE_ID, first, "Attending")
    await concerts.add_attendance(ALICE_ID, second, "Not Attending")
    await concerts.add_attendance(BOB_ID, first, "Attending")
    broker: Broker = concerts.app.state.runtime.broker
    async with asyncio.timeout(10):
        await concerts.app.state.subscriptions.wait_subscribed()

    message = user_deleted(ALICE_ID)
    await broker.publish([message])
    await eventually(lambda: _processed(concerts, message.id))
    assert await concerts.attendance_rows() == [(BOB_ID, first, "Attending")]

    # Alice's id answers again (say, restored); the old message delivered again must not erase it.
    await concerts.add_attendance(ALICE_ID, second, "Attending")
    await broker.publish([message])
    await eventually(lambda: _queue_empty(broker))
    assert await concerts.attendance_rows() == [
        (ALICE_ID, second, "Attending"),
        (BOB_ID, first, "Attending"),
    ]


async def _queue_empty(broker: Broker) -> bool:
    return await broker.queue_depth(IDENTITY_QUEUE) == 0


@pytest.mark.parametrize("user_id", [None, "2", True, 2.5])
async def test_a_malformed_event_is_refused(concerts: Concerts, user_id: object) -> None:
    """Raising sends the message to retries and the dead-letter queue, erasing nothing."""
    concert_id = await concerts.add_concert()
    await concerts.add_attendance(ALICE_ID, concert_id, "Attending")
    async with concerts.database.session() as session:
        with pytest.raises(ValueError, match="user_id"):
            await on_user_deleted(session, user_deleted(user_id))
    assert await concerts.attendance_rows() == [(ALICE_ID, concert_id, "Attending")]


async def test_deleting_a_user_in_identity_erases_their_attendance(
    engine: str,
    migrated_databases: MigratedDatabases,
    make_settings: Callable[..., Settings],
    concerts_database_url: str,
    tmp_path: Path,
) -> None:
    """Identity and concerts in one process on one embedded broker, as `bandstand up` runs them:
    identity's outbox relay publishes the deletion, the concerts subscription erases."""
    identity_url = await migrated_databases.fresh(
        engine, "identity", IDENTITY_MIGRATIONS, IdentityBase.metadata, tmp_path
    )
    settings = make_settings(
        databases={"identity": identity_url, "concerts": concerts_database_url}
    )
    runtime = Runtime(settings)
    identity = identity_app.create_app(runtime)  # concerts then verifies identity's own tokens
    concerts = concerts_app.create_app(runtime)

    async with api_client(identity) as people, api_client(concerts) as calendar:
        admin = await _account(identity, "boss", "admin")
        fan = await _account(identity, "fan", "user")
        other = await _account(identity, "other", "user")
        created = await calendar.post(
            "/api/v1/concerts",
            json={
                "concert_name": "Gravel Hymns",
                "duration": 90,
                "city": "Austin",
                "date": "2027-05-15T01:00:00Z",
            },
            headers=admin.headers,
        )
        assert created.status_code == 201, created.text
        concert_id = created.json()["id"]
        for account in (fan, other):
            answer = await calendar.put(
                f"/api/v1/concerts/{concert_id}/attendance",
                json={"status": "Attending"},
                headers=account.headers,
            )
            assert answer.status_code == 200, answer.text

        deleted = await people.delete(f"/api/v1/users/{fan.id}", headers=admin.headers)
        assert deleted.status_code == 204, deleted.text

        async def erased() -> bool:
            response = await calendar.get(f"/api/v1/concerts/{concert_id}")
            return bool(response.json()["attending_count"] == 1)

        await eventually(erased)
        attendees = await calendar.get(
            f"/api/v1/concerts/{concert_id}/attendees", headers=admin.headers
        )
        assert [item["user_id"] for item in attendees.json()["results"]] == [other.id]


class _Account:
    def __init__(self, user_id: int, token: str) -> None:
        self.id = user_id
        self.headers = {"Authorization": f"Bearer {token}"}


async def _account(identity: FastAPI, username: str, role: str) -> _Account:
    """A user stored in identity (no password check needed) and an access token identity issued."""
    database: Database = identity.state.database
    async with database.session() as session, session.begin():
        user = User(
            username=username,
            email=f"{username}@example.com",
            password_hash="not-used-by-this-test",
            role=role,
        )
        session.add(user)
        await session.flush()
        issued = await identity.state.authentication.issue(session, user)
        return _Account(user.id, issued.access_token)
