"""The concert calendar: create, read, list with filters, replace, change and delete."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.concerts.conftest import ALICE_ID, BOB_ID, CONCERT, Concerts


async def test_create_then_read(concerts: Concerts, client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/concerts", json=CONCERT, headers=concerts.admin)

    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/api/v1/concerts/{body['id']}"
    assert {key: body[key] for key in CONCERT} == CONCERT
    assert body["attending_count"] == 0
    assert body["my_status"] == "-"
    created = datetime.fromisoformat(body["created_at"])
    assert created.utcoffset() == timedelta(0)
    assert body["updated_at"] == body["created_at"]

    public = await client.get(response.headers["location"])
    assert public.status_code == 200
    assert public.json() == {**body, "my_status": None}


async def test_times_are_stored_and_served_in_utc(
    concerts: Concerts, client: httpx.AsyncClient
) -> None:
    offset = {**CONCERT, "date": "2027-03-19T23:00:00+02:00"}
    naive = {**CONCERT, "concert_name": "Naive", "date": "2027-03-19T21:00:00"}
    first = (await client.post("/api/v1/concerts", json=offset, headers=concerts.admin)).json()
    second = (await client.post("/api/v1/concerts", json=naive, headers=concerts.admin)).json()

    assert first["date"] == "2027-03-19T21:00:00Z"
    assert second["date"] == "2027-03-19T21:00:00Z"
    listed = (await client.get("/api/v1/concerts?date_from=2027-03-19T21:00:00Z")).json()
    assert listed["count"] == 2


async def test_detail_counts_attending_and_shows_only_the_callers_status(
    concerts: Concerts, client: httpx.AsyncClient
) -> None:
    concert_id = await concerts.add_concert()
    await concerts.add_attendance(ALICE_ID, concert_id, "Attending")
    await concerts.add_attendance(BOB_ID, concert_id, "Not Attending")
    await concerts.add_attendance(99, concert_id, "Attending")

    anonymous = (await client.get(f"/api/v1/concerts/{concert_id}")).json()
    alice = (await client.get(f"/api/v1/concerts/{concert_id}", headers=concerts.alice)).json()
    bob = (await client.get(f"/api/v1/concerts/{concert_id}", headers=concerts.bob)).json()
    admin = (await client.get(f"/api/v1/concerts/{concert_id}", headers=concerts.admin)).json()

    assert {anonymous["attending_count"], alice["attending_count"], bob["attending_count"]} == {2}
    assert anonymous["my_status"] is None
    assert alice["my_status"] == "Attending"
    assert bob["my_status"] == "Not Attending"
    assert admin["my_status"] == "-"


async def test_unknown_concert_is_404(concerts: Concerts, client: httpx.AsyncClient) -> None:
    for concert_id in (12345, 0, -1, 2**31, 10**30):
        response = await client.get(f"/api/v1/concerts/{concert_id}")
        assert response.status_code == 404, (concert_id, response.text)
        assert response.json() == {"detail": f"Concert with id {concert_id} not found"}
    for method in ("PUT", "PATCH"):
        response = await client.request(
            method, "/api/v1/concerts/12345", json=CONCERT, headers=concerts.admin
        )
        assert response.status_code == 404
    deleted = await client.delete("/api/v1/concerts/12345", headers=concerts.admin)
    assert deleted.status_code == 404
    assert (await client.get("/api/v1/concerts/abc")).status_code == 422


async def test_list_is_ordered_by_start_and_carries_counts(
    concerts: Concerts, client: httpx.AsyncClient
) -> None:
    late = await concerts.add_concert("Late", date=datetime(2027, 9, 1, tzinfo=UTC))
    early = await concerts.add_concert("Early", date=datetime(2027, 2, 1, tzinfo=UTC))
    middle = await concerts.add_concert("Middle", date=datetime(2027, 5, 1, tzinfo=UTC))
    await concerts.add_attendance(ALICE_ID, middle, "Attending")
    await concerts.add_attendance(BOB_ID, middle, "Attending")
    await concerts.add_attendance(BOB_ID, late, "Attending")

    page = (await client.get("/api/v1/concerts", headers=concerts.bob)).json()
    assert page["count"] == 3
    assert [item["id"] for item in page["results"]] == [early, middle, late]
    assert [item["attending_count"] for item in page["results"]] == [0, 2, 1]
    assert [item["my_status"] for item in page["results"]] == ["-", "Attending", "Attending"]

    newest_first = (await client.get("/api/v1/concerts?ordering=-date")).json()
    assert [item["id"] for item in newest_first["results"]] == [late, middle, early]
    assert {item["my_status"] for item in newest_first["results"]} == {None}
    assert (await client.get("/api/v1/concerts?ordering=title")).status_code == 422


async def test_city_filter_ignores_case_and_spacing(
    concerts: Concerts, client: httpx.AsyncClient
) -> None:
    lisbon = await concerts.add_concert("A", city="Lisbon")
    zurich = await concerts.add_concert("B", city="Zürich")
    await concerts.add_concert("C", city="Lisbon Harbour")

    async def ids(city: str) -> list[int]:
        response = await client.get("/api/v1/concerts", params={"city": city})
        assert response.status_code == 200
        return [item["id"] for item in response.json()["results"]]

    assert await ids("lisbon") == [lisbon]
    assert await ids("  LISBON ") == [lisbon]
    assert await ids("ZÜRICH") == [zurich]
    assert await ids("Porto") == []
    assert len(await ids("")) == 3  # an empty filter is no filter


async def test_date_filters_take_dates_as_whole_utc_days(
    concerts: Concerts, client: httpx.AsyncClient
) -> None:
    first = await concerts.add_concert("1", date=datetime(2027, 5, 1, 0, 0, tzinfo=UTC))
    second = await concerts.add_concert("2", date=datetime(2027, 5, 1, 23, 30, tzinfo=UTC))
    third = await concerts.add_concert("3", date=datetime(2027, 5, 2, 0, 0, tzinfo=UTC))

    async def ids(**params: str) -> list[int]:
        response = await client.get("/api/v1/concerts", params=params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["results"]]

    assert await ids(date_to="2027-05-01") == [first, second]
    assert await ids(date_from="2027-05-01", date_to="2027-05-01") == [first, second]
    assert await ids(date_from="2027-05-02") == [third]
    assert await ids(date_to="2027-05-01T23:30:00Z") == [first, second]
    assert await ids(date_to="2027-05-01T23:29:59Z") == [first]
    assert await ids(date_from="2027-05-01T20:00:00-04:00") == [third]
    assert await ids(date_from="2027-05-03") == []
    assert await ids(date_to="9999-12-31") == [first, second, third]


async def test_upcoming_splits_the_calendar_at_now(
    concerts: Concerts, client: httpx.AsyncClient
) -> None:
    now = datetime.now(UTC)
    past = await concerts.add_concert("Past", date=now - timedelta(days=3))
    soon = await concerts.add_concert("Soon", date=now + timedelta(hours=2))
    later = await concerts.add_concert("Later", date=now + timedelta(days=30))

    async def ids(query: str) -> list[int]:
        return [
            item["id"] for item in (await client.get(f"/api/v1/concerts?{query}")).json()["results"]
        ]

    assert await ids("upcoming=true") == [soon, later]
    assert await ids("upcoming=false") == [past]
    assert await ids("") == [past, soon, later]
    # Two days ahead: "Soon" (two hours from now) is at the latest tomorrow, whatever the hour.
    future = (now + timedelta(days=2)).date().isoformat()
    assert await ids(f"upcoming=true&date_from={future}") == [later]


async def test_pagination_of_the_list(concerts: Concerts, client: httpx.AsyncClient) -> None:
    ids = [
        await concerts.add_concert(f"C{day}", date=datetime(2027, 1, day, tzinfo=UTC))
        for day in range(1, 6)
    ]
    first = (await client.get("/api/v1/concerts?page_size=2&city=glasgow")).json()
    assert first["count"] == 5
    assert first["previous"] is None
    assert "city=glasgow" in first["next"]
    seen = [item["id"] for item in first["results"]]
    next_url = first["next"]
    while next_url:
        page = (await client.get(next_url)).json()
        seen += [item["id"] for item in page["results"]]
        next_url = page["next"]
    assert seen == ids
    assert (await client.get("/api/v1/concerts?page=4&page_size=2")).status_code == 404


async def test_put_replaces_every_field(concerts: Concerts, client: httpx.AsyncClient) -> None:
    created = (await client.post("/api/v1/concerts", json=CONCERT, headers=concerts.admin)).json()
    replacement = {
        "concert_name": "Static Orchard, Second Night",
        "duration": 100,
        "city": "Hamburg",
        "date": "2027-03-20T21:00:00Z",
    }
    response = await client.put(
        f"/api/v1/concerts/{created['id']}", json=replacement, headers=concerts.admin
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert {key: body[key] for key in replacement} == replacement
    assert (body["venue"], body["description"], body["picture_id"]) == ("", "", None)
    assert body["created_at"] == created["created_at"]
    assert body["updated_at"] > created["updated_at"]
    assert (await client.get(f"/api/v1/concerts/{created['id']}")).json()["city"] == "Hamburg"
    city = await client.get("/api/v1/concerts?city=hamburg")
    assert city.json()["count"] == 1


async def test_patch_changes_only_what_is_sent(
    concerts: Concerts, client: httpx.AsyncClient
) -> None:
    created = (await client.post("/api/v1/concerts", json=CONCERT, headers=concerts.admin)).json()
    path = f"/api/v1/concerts/{created['id']}"

    response = await client.patch(
        path, json={"duration": 95, "picture_id": None}, headers=concerts.admin
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["duration"] == 95
    assert body["picture_id"] is None
    assert {key: body[key] for key in ("concert_name", "city", "date", "venue")} == {
        key: CONCERT[key] for key in ("concert_name", "city", "date", "venue")
    }
    unchanged = await client.patch(path, json={}, headers=concerts.admin)
    assert unchanged.status_code == 200
    assert unchanged.json()["updated_at"] == body["updated_at"]


async def test_delete_takes_the_attendance_with_it(
    concerts: Concerts, client: httpx.AsyncClient
) -> None:
    doomed = await concerts.add_concert("Doomed")
    kept = await concerts.add_concert("Kept")
    await concerts.add_attendance(ALICE_ID, doomed, "Attending")
    await concerts.add_attendance(ALICE_ID, kept, "Attending")

    response = await client.delete(f"/api/v1/concerts/{doomed}", headers=concerts.admin)

    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(f"/api/v1/concerts/{doomed}")).status_code == 404
    assert await concerts.attendance_rows() == [(ALICE_ID, kept, "Attending")]
    again = await client.delete(f"/api/v1/concerts/{doomed}/", headers=concerts.admin)
    assert again.status_code == 404


async def test_trailing_slashes_are_optional(concerts: Concerts, client: httpx.AsyncClient) -> None:
    created = await client.post("/api/v1/concerts/", json=CONCERT, headers=concerts.admin)
    assert created.status_code == 201
    assert (await client.get("/api/v1/concerts/")).json()["count"] == 1
    assert (await client.get(f"/api/v1/concerts/{created.json()['id']}/")).status_code == 200
