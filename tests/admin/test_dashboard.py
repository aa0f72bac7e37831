"""The dashboard's figures, from a fixed stream of events: contract D's keys plus the daily
series and top songs, kept by the consumer (no other service's database is read)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from bandstand.platform.messaging import Message
from tests.admin.conftest import Admin, event

TODAY = datetime.now(UTC).date()


def _at(days_ago: int, hour: int = 12) -> datetime:
    return datetime.combine(TODAY - timedelta(days=days_ago), time(hour), tzinfo=UTC)


def _stream() -> list[Message]:
    messages: list[Message] = []
    # Registrations: today 2, 3 days ago 1, 10 days ago 1, 40 days ago 1 (outside the month).
    for user_id, days_ago in [(1, 0), (2, 0), (3, 3), (4, 10), (5, 40)]:
        messages.append(
            event(
                "identity.user.registered", {"user_id": user_id, "actor_id": None}, at=_at(days_ago)
            )
        )
    messages.append(event("identity.user.deleted", {"user_id": 4, "actor_id": 1}, at=_at(1)))
    for days_ago in (0, 0, 0, 5, 29, 30):
        messages.append(
            event("identity.user.logged_in", {"user_id": 1, "actor_id": 1}, at=_at(days_ago))
        )
    orders = [(0, "12.50", "EUR"), (0, "7.50", "EUR"), (0, "3.00", "USD"), (2, "100.00", "EUR")]
    for n, (days_ago, amount, currency) in enumerate(orders):
        payload = {"order_id": n, "user_id": 1, "total_amount": amount, "currency": currency}
        messages.append(event("billing.order.completed", payload, at=_at(days_ago)))
    messages.append(event("billing.order.failed", {"order_id": 9, "user_id": 1}, at=_at(0)))
    for enrolment, days_ago in enumerate((1, 1, 8)):
        payload = {"enrollment_id": enrolment, "course_id": 3, "user_id": 2}
        messages.append(event("academy.enrollment.created", payload, at=_at(days_ago)))
    # Songs: titles from music.song.created; like counts as music reports them, latest wins,
    # whatever the order of arrival; a deleted song leaves the top.
    for song_id, title in [(1, "Low Tide"), (2, "Paper Moons"), (3, "Gone")]:
        payload = {"song_id": song_id, "title": title, "artist": "Kesta", "actor_id": 1}
        messages.append(event("music.song.created", payload, at=_at(20)))
    likes = [(1, 3, 5), (1, 2, 4), (2, 7, 3), (2, 6, 1), (3, 9, 2)]  # (song, count, hours after)
    for song_id, count, hours in likes:
        payload = {"song_id": song_id, "user_id": 2, "like_count": count}
        messages.append(event("music.song.liked", payload, at=_at(2) + timedelta(hours=hours)))
    messages.append(event("music.song.deleted", {"song_id": 3, "actor_id": 1}, at=_at(1)))
    return messages


def _series(body: dict[str, Any], key: str) -> dict[int, int]:
    """Days ago → count, for the days with a count."""
    return {
        (TODAY - datetime.fromisoformat(item["date"]).date()).days: item["count"]
        for item in body[key]
        if item["count"]
    }


async def test_figures_from_a_fixed_stream(admin: Admin) -> None:
    messages = _stream()
    # Out of order and in two batches, as a broker may deliver them.
    await admin.record(list(reversed(messages[:15])))
    await admin.record(messages[15:])
    await admin.client.post(
        "/api/v1/settings/", json={"key": "a", "value": "1"}, headers=admin.admin
    )

    response = await admin.client.get("/api/v1/dashboard/", headers=admin.admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["users"] == {"total": 4, "new_this_week": 3, "new_this_month": 4}
    assert body["system"] == {"total_settings": 1}
    assert body["activity"]["logs_this_week"] == sum(
        1 for m in messages if (TODAY - m.occurred_at.date()).days < 7
    )
    assert body["activity"]["logins_this_week"] == 4
    assert body["activity"]["orders_completed_this_week"] == 4
    assert body["activity"]["enrolments_this_week"] == 2
    assert datetime.fromisoformat(body["timestamp"]).date() == TODAY

    for key in ("registrations_per_day", "logins_per_day", "orders_per_day", "enrolments_per_day"):
        days = [item["date"] for item in body[key]]
        assert len(days) == 30
        assert days == sorted(days)
        assert days[-1] == TODAY.isoformat()
    assert _series(body, "registrations_per_day") == {0: 2, 3: 1, 10: 1}
    assert _series(body, "logins_per_day") == {0: 3, 5: 1, 29: 1}
    assert _series(body, "enrolments_per_day") == {1: 2, 8: 1}
    orders = {item["date"]: item for item in body["orders_per_day"] if item["count"]}
    assert orders[TODAY.isoformat()]["count"] == 3
    assert orders[TODAY.isoformat()]["revenue"] == {"EUR": "20.00", "USD": "3.00"}
    assert orders[(TODAY - timedelta(days=2)).isoformat()]["revenue"] == {"EUR": "100.00"}
    assert (
        body["top_songs"]
        == [
            {"song_id": 1, "title": "Low Tide", "artist": "Kesta", "like_count": 3},
            {"song_id": 2, "title": "Paper Moons", "artist": "Kesta", "like_count": 7},
        ][::-1]
    )


async def test_a_redelivered_stream_changes_no_figure(admin: Admin) -> None:
    messages = _stream()
    await admin.record(messages)
    first = (await admin.client.get("/api/v1/dashboard", headers=admin.admin)).json()
    await admin.record(messages[::2])
    await admin.record(messages)
    again = (await admin.client.get("/api/v1/dashboard", headers=admin.admin)).json()
    first.pop("timestamp")
    again.pop("timestamp")
    assert again == first


async def test_an_empty_platform_has_zero_figures(admin: Admin) -> None:
    body = (await admin.client.get("/api/v1/dashboard", headers=admin.admin)).json()
    assert body["users"] == {"total": 0, "new_this_week": 0, "new_this_month": 0}
    assert body["activity"]["logs_this_week"] == 0
    assert body["top_songs"] == []
    assert all(item["count"] == 0 for item in body["orders_per_day"])
    assert all(item["revenue"] == {} for item in body["orders_per_day"])


async def test_an_order_with_a_bad_amount_counts_without_revenue(admin: Admin) -> None:
    for amount in ("abc", None, "NaN", "1e999", True):
        payload = {"order_id": 1, "user_id": 1, "total_amount": amount, "currency": "EUR"}
        await admin.record([event("billing.order.completed", payload, at=_at(0))])
    body = (await admin.client.get("/api/v1/dashboard", headers=admin.admin)).json()
    today = body["orders_per_day"][-1]
    assert today["count"] == 5
    assert today["revenue"] == {"EUR": "0.00"}
