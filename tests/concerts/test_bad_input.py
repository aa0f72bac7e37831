"""Bad input on every write: each is refused with a 4xx naming the field, and nothing is stored
(no concert, no attendance, no event). Bad query parameters are 422s naming them, never 500s."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.concerts.conftest import ALICE_ID, CONCERT, Concerts, error_locations


@dataclass(frozen=True)
class Case:
    field: str
    body: Any  # the JSON body sent, or bytes sent as is


def _with(**changes: Any) -> dict[str, Any]:
    return {**CONCERT, **changes}


def _without(field: str) -> dict[str, Any]:
    return {key: value for key, value in CONCERT.items() if key != field}


CONCERT_CASES = [
    *[Case(field, _without(field)) for field in ("concert_name", "duration", "city", "date")],
    Case("concert_name", _with(concert_name="")),
    Case("concert_name", _with(concert_name="   ")),
    Case("concert_name", _with(concert_name="x" * 201)),
    Case("concert_name", _with(concert_name="nul\x00byte")),
    Case("concert_name", _with(concert_name=42)),
    Case("concert_name", _with(concert_name=None)),
    Case("city", _with(city="y" * 101)),
    Case("city", _with(city="")),
    Case("city", _with(city="a\x00b")),
    Case("city", _with(city=["Berlin"])),
    Case("venue", _with(venue="v" * 201)),
    Case("venue", _with(venue=None)),
    Case("description", _with(description="d" * 5001)),
    Case("description", _with(description="\x00")),
    Case("duration", _with(duration=0)),
    Case("duration", _with(duration=-5)),
    Case("duration", _with(duration=10**20)),
    Case("duration", _with(duration="90")),
    Case("duration", _with(duration=90.5)),
    Case("duration", _with(duration=True)),
    Case("date", _with(date="tomorrow")),
    Case("date", _with(date="2027-13-01T20:00:00Z")),
    Case("date", _with(date="9999-12-31T23:00:00-05:00")),
    Case("date", _with(date=None)),
    # The document says a date-time string: a number is not one, nor a numeral.
    Case("date", _with(date=1_800_000_000)),
    Case("date", _with(date="0")),
    Case("picture_id", _with(picture_id=0)),
    Case("picture_id", _with(picture_id=2**31)),
    Case("picture_id", _with(picture_id="4")),
    *[
        Case(field, _with(**{field: value}))
        for field, value in (
            ("id", 7),
            ("created_at", "2020-01-01T00:00:00Z"),
            ("updated_at", "2020-01-01T00:00:00Z"),
            ("attending_count", 1000),
            ("my_status", "Attending"),
            ("city_key", "x"),
        )
    ],
]

PATCH_CASES = [
    Case("concert_name", {"concert_name": None}),
    Case("duration", {"duration": None}),
    Case("date", {"date": None}),
    Case("city", {"city": None}),
    Case("description", {"description": None}),
    Case("duration", {"duration": 0}),
    Case("date", {"date": "not a date"}),
    Case("city", {"city": "z" * 101}),
    Case("id", {"id": 99}),
    Case("created_at", {"created_at": "2020-01-01T00:00:00Z"}),
]

ATTENDANCE_CASES = [
    Case("status", {}),
    Case("status", {"status": "attending"}),
    Case("status", {"status": "Maybe"}),
    Case("status", {"status": None}),
    Case("status", {"status": 1}),
    Case("status", {"status": ""}),
    Case("user_id", {"status": "Attending", "user_id": 3}),
    Case("concert_id", {"status": "Attending", "concert_id": 3}),
]

MALFORMED = [b'{"concert_name": "x", ', b"[]", b'"text"', b"null", b""]


async def _refused(
    concerts: Concerts,
    client: httpx.AsyncClient,
    method: str,
    path: str,
    case: Case,
    headers: dict[str, str],
) -> None:
    before = (await concerts.concerts_snapshot(), await concerts.attendance_rows())
    response = await client.request(method, path, json=case.body, headers=headers)
    assert 400 <= response.status_code < 500, (case, response.text)
    assert response.status_code == 422, (case, response.text)
    assert case.field in error_locations(response.json()) or case.field in str(
        response.json()["detail"]
    ), (case, response.json())
    assert (await concerts.concerts_snapshot(), await concerts.attendance_rows()) == before
    assert await concerts.outbox() == []


@pytest.mark.parametrize("method", ["POST", "PUT"])
async def test_concert_bodies(concerts: Concerts, client: httpx.AsyncClient, method: str) -> None:
    concert_id = await concerts.add_concert()
    path = "/api/v1/concerts" if method == "POST" else f"/api/v1/concerts/{concert_id}"
    for case in CONCERT_CASES:
        await _refused(concerts, client, method, path, case, concerts.admin)


async def test_patch_bodies(concerts: Concerts, client: httpx.AsyncClient) -> None:
    concert_id = await concerts.add_concert()
    for case in PATCH_CASES:
        await _refused(
            concerts, client, "PATCH", f"/api/v1/concerts/{concert_id}", case, concerts.admin
        )


async def test_attendance_bodies(concerts: Concerts, client: httpx.AsyncClient) -> None:
    concert_id = await concerts.add_concert()
    path = f"/api/v1/concerts/{concert_id}/attendance"
    for case in ATTENDANCE_CASES:
        await _refused(concerts, client, "PUT", path, case, concerts.alice)


async def test_malformed_and_non_object_bodies(
    concerts: Concerts, client: httpx.AsyncClient
) -> None:
    concert_id = await concerts.add_concert()
    before = await concerts.concerts_snapshot()
    writes = [
        ("POST", "/api/v1/concerts", concerts.admin),
        ("PUT", f"/api/v1/concerts/{concert_id}", concerts.admin),
        ("PATCH", f"/api/v1/concerts/{concert_id}", concerts.admin),
        ("PUT", f"/api/v1/concerts/{concert_id}/attendance", concerts.alice),
    ]
    for method, path, headers in writes:
        for content in MALFORMED:
            response = await client.request(
                method,
                path,
                content=content,
                headers={**headers, "Content-Type": "application/json"},
            )
            assert response.status_code == 422, (method, path, content, response.text)
            assert isinstance(response.json()["detail"], list)
    assert await concerts.concerts_snapshot() == before
    assert await concerts.attendance_rows() == []
    assert await concerts.outbox() == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("date_from=yesterday", "date_from"),
        ("date_from=2027-02-30", "date_from"),
        ("date_to=2027-05-01T25:00", "date_to"),
        ("date_to=9999-12-31T23:00:00-05:00", "date_to"),
        ("upcoming=maybe", "upcoming"),
        ("ordering=city", "ordering"),
        ("city=" + "c" * 101, "city"),
        ("city=a%00b", "city"),
        ("page=0", "page"),
        ("page=abc", "page"),
        ("page_size=101", "page_size"),
    ],
)
async def test_bad_list_parameters(
    concerts: Concerts, client: httpx.AsyncClient, query: str, field: str
) -> None:
    response = await client.get(f"/api/v1/concerts?{query}")
    assert response.status_code == 422, response.text
    assert field in error_locations(response.json())


async def test_a_page_far_beyond_the_end_is_404_not_500(
    concerts: Concerts, client: httpx.AsyncClient
) -> None:
    concert_id = await concerts.add_concert()
    await concerts.add_attendance(ALICE_ID, concert_id, "Attending")
    lists = [
        ("/api/v1/concerts", {}),
        ("/api/v1/me/concerts", concerts.alice),
        (f"/api/v1/concerts/{concert_id}/attendees", concerts.admin),
    ]
    for path, headers in lists:
        response = await client.get(f"{path}?page={10**30}", headers=headers)
        assert response.status_code == 404, (path, response.text)
        assert response.json() == {"detail": "Invalid page."}
