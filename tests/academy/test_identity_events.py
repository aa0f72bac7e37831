"""Identity's events: `identity.user.deleted` erases the user's enrolments and completions once
per message whatever the number of deliveries; registrations, changes and logins keep the names
shown for instructors. End to end from identity's API too."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import bandstand.identity
from bandstand.academy import app as academy_app
from bandstand.academy import events
from bandstand.academy.events import IDENTITY_QUEUE
from bandstand.identity import app as identity_app
from bandstand.identity.models import IdentityBase, User
from bandstand.platform.database import Database
from bandstand.platform.messaging import Broker, Message
from bandstand.platform.messaging.idempotency import processed_messages_table
from bandstand.platform.runtime import Runtime
from bandstand.platform.settings import Settings
from tests.academy.conftest import ALICE_ID, BOB_ID, IVY_ID, Academy
from tests.support.client import api_client
from tests.support.databases import MigratedDatabases
from tests.support.waiting import eventually

IDENTITY_MIGRATIONS = Path(bandstand.identity.__file__).parent / "migrations"


def identity_event(event_type: str, **payload: Any) -> Message:
    return Message.new(event_type, payload, "identity")


async def _processed(academy: Academy, message_id: str) -> bool:
    async with academy.database.session() as session:
        statement = (
            select(func.count())
            .select_from(processed_messages_table)
            .where(processed_messages_table.c.message_id == message_id)
        )
        return int((await session.execute(statement)).scalar_one()) == 1


async def _deliver(academy: Academy, message: Message) -> None:
    broker: Broker = academy.app.state.runtime.broker
    async with asyncio.timeout(10):
        await academy.app.state.subscriptions.wait_subscribed()
    await broker.publish([message])


async def _drained(academy: Academy) -> bool:
    broker: Broker = academy.app.state.runtime.broker
    return await broker.queue_depth(IDENTITY_QUEUE) == 0


async def test_a_deleted_user_is_erased_once_even_when_redelivered(academy: Academy) -> None:
    course = await academy.add_course()
    other = await academy.add_course("Other")
    lesson = await academy.add_lesson(course, 1)
    await academy.add_enrollment(ALICE_ID, course)
    await academy.add_enrollment(ALICE_ID, other)
    await academy.add_completion(ALICE_ID, course, lesson)
    await academy.add_enrollment(BOB_ID, course)
    await academy.add_completion(BOB_ID, course, lesson)
    await academy.add_member(ALICE_ID, "alice")
    ranking = await academy.client.get("/api/v1/courses/popular")
    assert ranking.json()["results"][0]["enrollment_count"] == 2

    message = identity_event("identity.user.deleted", user_id=ALICE_ID, actor_id=1)
    await _deliver(academy, message)
    await eventually(lambda: _processed(academy, message.id))
    assert await academy.enrollments() == [(BOB_ID, course, False)]
    assert await academy.completions() == [(BOB_ID, lesson)]
    ranking = await academy.client.get("/api/v1/courses/popular")
    assert ranking.json()["results"][0]["enrollment_count"] == 1  # the cached ranking dropped

    # Alice's id enrols again (say, restored); the old message delivered again erases nothing.
    await academy.add_enrollment(ALICE_ID, other)
    broker: Broker = academy.app.state.runtime.broker
    await broker.publish([message])
    await eventually(lambda: _drained(academy))
    assert await academy.enrollments() == [(ALICE_ID, other, False), (BOB_ID, course, False)]
    # Erasing a user with nothing stored is fine too.
    nobody = identity_event("identity.user.deleted", user_id=999, actor_id=1)
    await broker.publish([nobody])
    await eventually(lambda: _processed(academy, nobody.id))


async def test_a_malformed_deletion_erases_nothing(academy: Academy) -> None:
    """Raising sends the message to retries and the dead-letter queue, erasing nothing."""
    course = await academy.add_course()
    await academy.add_enrollment(ALICE_ID, course)
    handler = events.subscription(academy.app.state.popular_courses).handlers[events.USER_DELETED]
    for user_id in (None, "2", True, 2.5):
        async with academy.database.session() as session:
            with pytest.raises(ValueError, match="user_id"):
                await handler(session, identity_event(events.USER_DELETED, user_id=user_id))
    assert await academy.enrollments() == [(ALICE_ID, course, False)]


async def test_instructors_are_named_from_identity_events(academy: Academy) -> None:
    course = await academy.add_course(instructor_id=IVY_ID)
    registered = identity_event(
        "identity.user.registered", user_id=IVY_ID, username="ivy", role="instructor"
    )
    await _deliver(academy, registered)
    await eventually(lambda: _processed(academy, registered.id))
    assert (await academy.client.get(f"/api/v1/courses/{course}")).json()["instructor"] == "ivy"

    renamed = identity_event("identity.user.updated", user_id=IVY_ID, username="ivy.north")
    stale = Message(
        id="stale-login",
        type="identity.user.logged_in",
        occurred_at=registered.occurred_at,
        source="identity",
        payload={"user_id": IVY_ID, "username": "ivy-old"},
    )
    for message in (renamed, stale):
        await _deliver(academy, message)
        await eventually(lambda message=message: _processed(academy, message.id))
    read = await academy.client.get(f"/api/v1/courses/{course}")
    assert read.json()["instructor"] == "ivy.north"  # the older login does not win

    await _deliver(academy, identity_event("identity.user.deleted", user_id=IVY_ID, actor_id=1))
    await eventually(
        lambda: _name_is(academy, course, f"Instructor #{IVY_ID}")
    )  # the course stays, the name goes


async def _name_is(academy: Academy, course: int, name: str) -> bool:
    response = await academy.client.get(f"/api/v1/courses/{course}")
    return bool(response.json()["instructor"] == name)


@pytest.mark.parametrize("engine", ["sqlite"])
async def test_deleting_a_user_in_identity_erases_their_enrolments(
    engine: str,
    migrated_databases: MigratedDatabases,
    make_settings: Callable[..., Settings],
    academy_database_url: str,
    tmp_path: Path,
) -> None:
    """Identity and academy in one process on one embedded broker, as `bandstand up` runs them."""
    identity_url = await migrated_databases.fresh(
        engine, "identity", IDENTITY_MIGRATIONS, IdentityBase.metadata, tmp_path
    )
    settings = make_settings(databases={"identity": identity_url, "academy": academy_database_url})
    runtime = Runtime(settings)
    identity = identity_app.create_app(runtime)
    academy = academy_app.create_app(runtime)

    async with api_client(identity) as people, api_client(academy) as school:
        admin = await _account(identity, "boss", "admin")
        teacher = await _account(identity, "teacher", "instructor")
        learner = await _account(identity, "learner", "user")
        created = await school.post(
            "/api/v1/courses/create", json={"title": "Gravel Hymns"}, headers=teacher.headers
        )
        assert created.status_code == 201, created.text
        course_id = created.json()["id"]
        lesson = await school.post(
            f"/api/v1/courses/{course_id}/lessons",
            json={"title": "One", "order": 1, "is_published": True},
            headers=teacher.headers,
        )
        enrolled = await school.post(f"/api/v1/enroll/{course_id}", headers=learner.headers)
        assert enrolled.status_code == 201, enrolled.text
        done = await school.put(
            f"/api/v1/courses/{course_id}/lessons/{lesson.json()['id']}/completion",
            headers=learner.headers,
        )
        assert done.json()["progress"]["is_completed"] is True

        deleted = await people.delete(f"/api/v1/users/{learner.id}", headers=admin.headers)
        assert deleted.status_code == 204, deleted.text

        async def erased() -> bool:
            response = await school.get(f"/api/v1/courses/{course_id}")
            return bool(response.json()["enrollment_count"] == 0)

        await eventually(erased)


class _Account:
    def __init__(self, user_id: int, token: str) -> None:
        self.id = user_id
        self.headers = {"Authorization": f"Bearer {token}"}


async def _account(identity: Any, username: str, role: str) -> _Account:
    """A user stored in identity and an access token identity issued."""
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
