"""`GET /api/v1/logs`: contract D's filters plus `service`, newest first, 20 per page, the
entry shape of contract D as a subset of ours, and counts that match the rows."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter

from bandstand.admin.schemas import AuditEntryRead
from bandstand.platform import page_statements
from bandstand.platform.messaging import Message
from tests.admin.conftest import Admin, event
from tests.support.bodies import assert_lists_exactly

START = datetime(2027, 1, 10, 8, tzinfo=UTC)
CONTRACT_KEYS = {
    "id",
    "user",
    "action",
    "model_name",
    "object_id",
    "details",
    "ip_address",
    "user_agent",
    "created_at",
}


def _stream(count: int, seed: int = 7) -> list[Message]:
    rng = random.Random(seed)
    kinds = [
        ("identity.user.logged_in", "user_id"),
        ("music.song.liked", "song_id"),
        ("concerts.concert.created", "concert_id"),
        ("billing.order.completed", "order_id"),
    ]
    messages = []
    for n in range(count):
        type_, id_key = rng.choice(kinds)
        at = START + timedelta(hours=rng.randrange(0, 24 * 6), seconds=n)
        payload = {id_key: rng.randrange(1, 50), "actor_id": rng.choice([None, 1, 2, 3])}
        messages.append(event(type_, payload, at=at))
    return messages


async def _all_pages(admin: Admin, query: str) -> tuple[int, list[dict[str, Any]]]:
    url: str | None = f"/api/v1/logs?{query}"
    results: list[dict[str, Any]] = []
    count = -1
    while url:
        response = await admin.client.get(url, headers=admin.admin)
        assert response.status_code == 200, response.text
        body = response.json()
        count = body["count"]
        results.extend(body["results"])
        url = body["next"]
    return count, results


def _expected(messages: list[Message], **filters: Any) -> list[str]:
    def keep(message: Message) -> bool:
        day = message.occurred_at.date()
        return (
            ("service" not in filters or message.source == filters["service"])
            and ("action" not in filters or message.type == filters["action"])
            and ("user" not in filters or message.payload.get("actor_id") == filters["user"])
            and ("date_from" not in filters or day >= filters["date_from"])
            and ("date_to" not in filters or day <= filters["date_to"])
        )

    kept = sorted(
        (m for m in messages if keep(m)), key=lambda m: (m.occurred_at, m.id), reverse=True
    )
    return [message.id for message in kept]


FILTERS: list[dict[str, Any]] = [
    {},
    {"service": "music"},
    {"action": "identity.user.logged_in"},
    {"user": 2},
    {"user": 3, "service": "billing"},
    {"date_from": (START + timedelta(days=2)).date()},
    {"date_to": (START + timedelta(days=1)).date()},
    {
        "date_from": (START + timedelta(days=1)).date(),
        "date_to": (START + timedelta(days=3)).date(),
        "action": "music.song.liked",
    },
    {"service": "nobody"},
]


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: ",".join(f) or "none")
async def test_filters_pages_and_counts_agree_with_a_reference(
    admin: Admin, filters: dict[str, Any]
) -> None:
    messages = _stream(90)
    await admin.record(messages[:50])
    await admin.record(messages[50:])
    query = "&".join(f"{key}={value}" for key, value in filters.items())
    count, results = await _all_pages(admin, query)
    expected = _expected(messages, **filters)
    assert count == len(expected)
    # Newest first; entries of the same instant by id, newest id first.
    stored = {entry.event_id: entry.id for entry in await admin.entries()}
    expected.sort(
        key=lambda mid: (next(m.occurred_at for m in messages if m.id == mid), stored[mid]),
        reverse=True,
    )
    assert [item["event_id"] for item in results] == expected


async def test_an_entry_has_the_contract_shape_and_ours(admin: Admin) -> None:
    login = event(
        "identity.user.logged_in",
        {"user_id": 4, "actor_id": 4, "ip_address": "192.0.2.9", "user_agent": "Firefox"},
        at=START,
    )
    await admin.record([login])
    response = await admin.client.get("/api/v1/logs/", headers=admin.admin)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    (item,) = body["results"]
    assert set(item) >= CONTRACT_KEYS
    assert item["user"] == 4
    assert item["action"] == "identity.user.logged_in"
    assert item["model_name"] == "user"
    assert item["object_id"] == "4"
    assert item["details"] == login.payload
    assert item["ip_address"] == "192.0.2.9"
    assert item["user_agent"] == "Firefox"
    assert item["created_at"] in ("2027-01-10T08:00:00Z", "2027-01-10T08:00:00+00:00")
    assert item["service"] == "identity"
    assert item["target_type"] == "user"
    assert item["event_id"] == login.id


async def test_a_listed_entry_is_written_exactly_as_its_model_writes_it(admin: Admin) -> None:
    details = {
        "user_id": 4,
        "actor_id": 4,
        "ip_address": "192.0.2.9",
        "user_agent": 'Firefox ✓ "quoted"\n',
        "amounts": [0.1, 1e-05, 1e16, 12345678901234567890, -0.0, True, None],
        "nested": {"é": {"deep": []}},
    }
    await admin.record(
        [
            event("identity.user.logged_in", details, at=START),
            event("music.song.liked", {"song_id": 9}, at=START + timedelta(microseconds=1)),
            event("admin.setting.created", {"key": "k"}, at=START.replace(microsecond=0)),
        ]
    )
    entries = sorted(await admin.entries(), key=lambda e: (e.occurred_at, e.id), reverse=True)
    one = TypeAdapter(AuditEntryRead)
    alone = [
        one.dump_json(AuditEntryRead.model_validate(entry), by_alias=True) for entry in entries
    ]
    response = await admin.client.get("/api/v1/logs", headers=admin.admin)
    assert response.content.startswith(b'{"count":3,"next":null,"previous":null,"results":[')
    assert_lists_exactly(response.content, alone)
    assert response.json()["results"][-1]["created_at"] == "2027-01-10T08:00:00Z"
    second = await admin.client.get("/api/v1/logs?page_size=2&page=2", headers=admin.admin)
    assert_lists_exactly(second.content, alone[2:])


async def test_twenty_per_page_with_links(admin: Admin) -> None:
    await admin.record(_stream(45))
    first = (await admin.client.get("/api/v1/logs", headers=admin.admin)).json()
    assert first["count"] == 45
    assert len(first["results"]) == 20
    assert first["previous"] is None
    # `next` carries a cursor; the pages it leads to are those page=2 and page=3 read.
    second = (await admin.client.get(first["next"], headers=admin.admin)).json()
    by_number = await admin.client.get("/api/v1/logs?page=2", headers=admin.admin)
    assert second["results"] == by_number.json()["results"]
    third = await admin.client.get(second["next"], headers=admin.admin)
    assert len(third.json()["results"]) == 5
    assert third.json()["next"] is None
    assert third.json() == {
        **(await admin.client.get("/api/v1/logs?page=3", headers=admin.admin)).json(),
        "previous": third.json()["previous"],
    }
    past = await admin.client.get("/api/v1/logs?page=4", headers=admin.admin)
    assert past.status_code == 404
    assert past.json() == {"detail": "Invalid page.", "error": "Invalid page."}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("user=abc", "user"),
        ("user=-1", "user"),
        ("date_from=2027-13-01", "date_from"),
        ("date_to=yesterday", "date_to"),
        ("date_to=0", "date_to"),
        ("date_from=2027-02-02&date_to=2027-02-01", "date_from"),
        ("page=0", "page"),
        ("page_size=1000", "page_size"),
        ("action=" + "x" * 300, "action"),
        ("service=a%00b", "service"),
    ],
)
async def test_bad_filters_are_400_naming_the_field(admin: Admin, query: str, field: str) -> None:
    response = await admin.client.get(f"/api/v1/logs?{query}", headers=admin.admin)
    assert response.status_code == 400, response.text
    assert field in response.json()["error"]


async def test_deep_pages_found_by_their_ids_first_agree(
    admin: Admin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Numbered pages past the first ones (ids from an index first, or from the anchors kept
    for the list): the same entries, in the same order, as following the cursors."""
    messages = _stream(90, seed=11)
    await admin.record(messages)
    direct = {}
    for filters in FILTERS:
        query = "&".join(f"{key}={value}" for key, value in filters.items())
        direct[query] = await _all_pages(admin, query)
    for deferred_from, anchor_every in ((0, 10**9), (0, 7)):
        monkeypatch.setattr(page_statements, "DEFERRED_JOIN_OFFSET", deferred_from)
        monkeypatch.setattr(page_statements, "ANCHOR_EVERY", anchor_every)
        for query, expected in direct.items():
            assert await _numbered_pages(admin, query) == expected


async def _numbered_pages(admin: Admin, query: str) -> tuple[int, list[dict[str, Any]]]:
    results: list[dict[str, Any]] = []
    count, number = -1, 1
    while True:
        response = await admin.client.get(
            f"/api/v1/logs?{query}&page={number}", headers=admin.admin
        )
        if response.status_code == 404 or (number > 1 and not response.json()["results"]):
            return count, results
        count = response.json()["count"]
        results.extend(response.json()["results"])
        if response.json()["next"] is None:
            return count, results
        number += 1
