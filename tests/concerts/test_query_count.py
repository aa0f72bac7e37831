"""The list endpoints run a constant number of SQL statements whatever the page size: the
attending counts and the caller's statuses are read with the page, in its own statement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.concerts.conftest import ALICE_ID, BOB_ID, Concerts

PAGE_SIZES = (1, 50)


@pytest.fixture
async def calendar(concerts: Concerts) -> list[int]:
    """60 concerts; Alice and Bob answered about most of them, others too, and 60 users about
    the first."""
    start = datetime.now(UTC) + timedelta(days=1)
    ids = []
    for number in range(60):
        concert_id = await concerts.add_concert(
            f"Concert {number}", date=start + timedelta(hours=number)
        )
        ids.append(concert_id)
        if number % 4:
            await concerts.add_attendance(ALICE_ID, concert_id, "Attending")
        if number % 3:
            await concerts.add_attendance(BOB_ID, concert_id, "Not Attending")
        if number % 5 == 0:
            await concerts.add_attendance(100 + number, concert_id, "Attending")
    for user_id in range(200, 260):
        await concerts.add_attendance(user_id, ids[0], "Attending" if user_id % 2 else "-")
    return ids


async def _statements(
    concerts: Concerts, client: httpx.AsyncClient, url: str, headers: dict[str, str]
) -> tuple[int, int]:
    """(statements run, items returned) by one GET of `url`."""
    with concerts.statements() as seen:
        response = await client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return len(seen), len(response.json()["results"])


@pytest.mark.parametrize(
    ("who", "path", "expected"),
    [
        # The count is kept from the first read (no write since): the page alone, with the
        # attending counts and the caller's statuses
        ("anonymous", "/api/v1/concerts", 1),
        ("alice", "/api/v1/concerts", 1),
        # `upcoming` compares with the request's time: a new count statement every time
        ("alice", "/api/v1/concerts?upcoming=true&city=glasgow&ordering=-date", 2),
        # page of (answer, concert, attending count)
        ("alice", "/api/v1/me/concerts", 1),
        # the concert exists + page
        ("admin", "/api/v1/concerts/{first}/attendees", 2),
    ],
)
async def test_constant_statements_per_page(
    concerts: Concerts,
    client: httpx.AsyncClient,
    calendar: list[int],
    who: str,
    path: str,
    expected: int,
) -> None:
    headers = {"anonymous": {}, "alice": concerts.alice, "admin": concerts.admin}[who]
    url = path.format(first=calendar[0])
    separator = "&" if "?" in url else "?"
    # The first use of a connection runs set-up queries; the first read counts the list.
    await client.get(url, headers=headers)

    measured = [
        await _statements(concerts, client, f"{url}{separator}page_size={size}", headers)
        for size in PAGE_SIZES
    ]

    (small, small_items), (large, large_items) = measured
    assert small_items == 1
    assert large_items > 1
    assert small == large == expected


async def test_detail_is_constant_too(
    concerts: Concerts, client: httpx.AsyncClient, calendar: list[int]
) -> None:
    await client.get(f"/api/v1/concerts/{calendar[1]}", headers=concerts.alice)
    with concerts.statements() as seen:
        response = await client.get(f"/api/v1/concerts/{calendar[1]}", headers=concerts.alice)
    assert response.json()["attending_count"] == 1
    assert response.json()["my_status"] == "Attending"
    assert len(seen) == 3  # the concert + its attending count + the caller's status
