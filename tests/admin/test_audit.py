"""The audit consumer: every event of every service becomes one entry, derived from its
envelope and payload, once whatever the number of deliveries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bandstand.admin.audit import entry_values, target_of
from bandstand.admin.events import AUDIT_QUEUE
from tests.admin.conftest import Admin, event
from tests.support.waiting import eventually

AT = datetime(2027, 3, 1, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("type_", "payload", "expected"),
    [
        ("music.song.liked", {"song_id": 7, "user_id": 2}, ("song", "7")),
        ("identity.user.deleted", {"user_id": 3, "actor_id": 1}, ("user", "3")),
        ("admin.setting.updated", {"key": "site.name"}, ("setting", "site.name")),
        ("marketplace.instruments.imported", {"inserted": 3}, ("instruments", None)),
        ("billing.order.completed", {"order_id": True}, ("order", None)),
        ("odd", {"odd_id": 1}, (None, None)),
    ],
)
def test_the_target_is_the_entity_of_the_routing_key(
    type_: str, payload: dict[str, object], expected: tuple[str | None, str | None]
) -> None:
    assert target_of(event(type_, payload)) == expected


def test_an_entry_is_derived_from_envelope_and_payload() -> None:
    payload = {
        "user_id": 5,
        "username": "ada",
        "actor_id": 5,
        "ip_address": "198.51.100.7",
        "user_agent": "curl/8",
    }
    message = event("identity.user.logged_in", payload, at=AT)
    recorded = datetime(2027, 3, 1, 12, 31, tzinfo=UTC)
    assert entry_values(message, recorded) == {
        "event_id": message.id,
        "occurred_at": AT,
        "recorded_at": recorded,
        "service": "identity",
        "action": "identity.user.logged_in",
        "actor_id": 5,
        "target_type": "user",
        "target_id": "5",
        "details": payload,
        "ip_address": "198.51.100.7",
        "user_agent": "curl/8",
    }


@pytest.mark.parametrize(
    "payload",
    [
        {"actor_id": "1", "ip_address": 12.5, "user_agent": ["x"]},
        {"actor_id": True, "ip_address": "x" * 500, "user_agent": "a\x00b" * 300},
        {"actor_id": 2**70, "song_id": {"nested": 1}},
    ],
)
async def test_malformed_fields_are_left_out_and_the_event_is_still_recorded(
    admin: Admin, payload: dict[str, object]
) -> None:
    await admin.record([event("music.song.liked", payload)])
    (entry,) = await admin.entries()
    assert entry.actor_id is None
    assert entry.ip_address is None or len(entry.ip_address) <= 45
    assert entry.user_agent is None or ("\x00" not in entry.user_agent)
    assert entry.target_id is None
    assert entry.details == payload


async def test_every_event_of_every_service_reaches_the_log(admin: Admin) -> None:
    await admin.subscribed()
    messages = [
        event("identity.user.registered", {"user_id": 9, "actor_id": None}),
        event("music.album.created", {"album_id": 4, "actor_id": 1}),
        event("concerts.attendance.changed", {"concert_id": 2, "user_id": 9}),
        event("billing.order.failed", {"order_id": 3, "user_id": 9}),
        event("some.future.thing.happened", {}),
    ]
    await admin.broker.publish(messages)
    await eventually(lambda: _count_is(admin, len(messages)))
    entries = await admin.entries()
    assert sorted(entry.event_id for entry in entries) == sorted(m.id for m in messages)
    assert {entry.service for entry in entries} == {
        "identity",
        "music",
        "concerts",
        "billing",
        "some",
    }


async def _count_is(admin: Admin, expected: int) -> bool:
    return await admin.entry_count() == expected


async def test_a_redelivered_event_is_recorded_and_counted_once(admin: Admin) -> None:
    await admin.subscribed()
    registered = event("identity.user.registered", {"user_id": 11, "actor_id": None})
    await admin.broker.publish([registered])
    await eventually(lambda: _count_is(admin, 1))

    # The same message again, alone and inside a batch with a new one.
    login = event("identity.user.logged_in", {"user_id": 11, "actor_id": 11})
    await admin.broker.publish([registered])
    await admin.broker.publish([registered, login, registered])
    await eventually(admin.consumed)
    await eventually(lambda: _count_is(admin, 2))
    assert await admin.broker.queue_depth(f"{AUDIT_QUEUE}.dlq") == 0

    listed = await admin.client.get("/api/v1/logs", headers=admin.admin)
    assert listed.json()["count"] == 2
    figures = (await admin.client.get("/api/v1/dashboard", headers=admin.admin)).json()
    assert figures["users"]["total"] == 1
    assert figures["users"]["new_this_week"] == 1
    assert figures["activity"]["logs_this_week"] == 2


async def test_a_batch_with_duplicates_records_each_event_once(admin: Admin) -> None:
    first = event("music.song.created", {"song_id": 1, "title": "A", "actor_id": 1})
    second = event("music.song.liked", {"song_id": 1, "user_id": 2, "like_count": 1})
    await admin.record([first, second, first])
    await admin.record([second])
    assert sorted(entry.event_id for entry in await admin.entries()) == sorted(
        [first.id, second.id]
    )
