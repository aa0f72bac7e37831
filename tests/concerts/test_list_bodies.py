"""Every list of concerts writes exactly the documented body, byte for byte: the fields of its
read model in their order, UTC times in ISO form, text as UTF-8, the attending count of each
concert, and `my_status` null without a token and the caller's own ("-" for none) with one."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import update

from bandstand.concerts.models import Attendance, Concert
from tests.concerts.conftest import ALICE_ID, BOB_ID, Concerts

MADE = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
ANSWERED = datetime(2026, 3, 4, 5, 6, 7, 1, tzinfo=UTC)


def _page(results: list[dict[str, Any]]) -> bytes:
    body = {"count": len(results), "next": None, "previous": None, "results": results}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def _concert(
    concert_id: int, attending: int, my_status: str | None, **fields: Any
) -> dict[str, Any]:
    return {
        "id": concert_id,
        "concert_name": fields.get("concert_name", "Night Ferries"),
        "duration": 90,
        "city": fields.get("city", "Glasgow"),
        "date": fields["date"],
        "venue": fields.get("venue", "The Coal Exchange"),
        "description": fields.get("description", ""),
        "picture_id": fields.get("picture_id"),
        "created_at": "2026-01-02T03:04:05.678901Z",
        "updated_at": "2026-01-02T03:04:05.678901Z",
        "attending_count": attending,
        "my_status": my_status,
    }


async def test_concert_lists(concerts: Concerts, client: httpx.AsyncClient) -> None:
    first = await concerts.add_concert(
        'Ünïcode "quoted" <b>',
        city="Zürich",
        date=datetime(2027, 5, 1, 20, tzinfo=UTC),
        description="Line one\nline two",
        picture_id=4,
    )
    second = await concerts.add_concert(date=datetime(2027, 6, 1, 19, 30, tzinfo=UTC))
    await concerts.add_attendance(ALICE_ID, first, "Attending")
    await concerts.add_attendance(BOB_ID, first, "Attending")
    await concerts.add_attendance(BOB_ID, second, "Not Attending")
    await concerts.add_attendance(9, second, "Attending")
    async with concerts.session() as session:
        await session.execute(update(Concert).values(created_at=MADE, updated_at=MADE))
        await session.execute(update(Attendance).values(updated_at=ANSWERED))

    def calendar(alice: str | None, bob: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
        return (
            _concert(
                first,
                2,
                alice,
                concert_name='Ünïcode "quoted" <b>',
                city="Zürich",
                date="2027-05-01T20:00:00Z",
                description="Line one\nline two",
                picture_id=4,
            ),
            _concert(second, 1, bob, date="2027-06-01T19:30:00Z"),
        )

    anonymous = await client.get("/api/v1/concerts")
    assert anonymous.headers["content-type"] == "application/json"
    assert anonymous.content == _page(list(calendar(None, None)))
    alice = await client.get("/api/v1/concerts?page_size=50", headers=concerts.alice)
    assert alice.content == _page(list(calendar("Attending", "-")))
    bob = await client.get("/api/v1/concerts?ordering=-date", headers=concerts.bob)
    assert bob.content == _page(list(reversed(calendar("Attending", "Not Attending"))))

    answered = "2026-03-04T05:06:07.000001Z"
    mine = await client.get("/api/v1/me/concerts", headers=concerts.bob)
    first_seen, second_seen = calendar("Attending", "Not Attending")
    assert mine.content == _page(
        [
            {"status": "Attending", "updated_at": answered, "concert": first_seen},
            {"status": "Not Attending", "updated_at": answered, "concert": second_seen},
        ]
    )

    attendees = await client.get(f"/api/v1/concerts/{second}/attendees", headers=concerts.admin)
    assert attendees.content == _page(
        [
            {"user_id": BOB_ID, "status": "Not Attending", "updated_at": answered},
            {"user_id": 9, "status": "Attending", "updated_at": answered},
        ]
    )
