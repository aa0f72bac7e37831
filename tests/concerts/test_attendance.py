"""Attendance: each user sets and sees only their own; the admin sees a concert's attendees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.concerts.conftest import ADMIN_ID, ALICE_ID, BOB_ID, Concerts


async def _put(
    client: httpx.AsyncClient, concert_id: int, status: str, headers: dict[str, str]
) -> httpx.Response:
    return await client.put(
        f"/api/v1/concerts/{concert_id}/attendance", json={"status": status}, headers=headers
    )


async def test_setting_changing_and_withdrawing(
    concerts: Concerts, client: httpx.AsyncClient
) -> None:
    concert_id = await concerts.add_concert()

    attending = await _put(client, concert_id, "Attending", concerts.alice)
    assert attending.status_code == 200, attending.text
    body = attending.json()
    assert (body["concert_id"], body["status"], body["attending_count"]) == (
        concert_id,
        "Attending",
        1,
    )
    assert datetime.fromisoformat(body["updated_at"]).utcoffset() == timedelta(0)
    assert await concerts.attendance_rows() == [(ALICE_ID, concert_id, "Attending")]

    declined = (await _put(client, concert_id, "Not Attending", concerts.alice)).json()
    assert (declined["status"], declined["attending_count"]) == ("Not Attending", 0)
    assert await concerts.attendance_rows() == [(ALICE_ID, concert_id, "Not Attending")]

    withdrawn = (await _put(client, concert_id, "-", concerts.alice)).json()
    assert withdrawn == {
        "concert_id": concert_id,
        "status": "-",
        "updated_at": None,
        "attending_count": 0,
    }
    assert await concerts.attendance_rows() == []
    detail = (await client.get(f"/api/v1/concerts/{concert_id}", headers=concerts.alice)).json()
    assert detail["my_status"] == "-"
    own = (
        await client.get(f"/api/v1/concerts/{concert_id}/attendance", headers=concerts.alice)
    ).json()
    assert own == withdrawn


async def test_get_and_put_agree_with_the_detail(
    concerts: Concerts, client: httpx.AsyncClient
) -> None:
    concert_id = await concerts.add_concert()
    path = f"/api/v1/concerts/{concert_id}/attendance"
    put = (await _put(client, concert_id, "Not Attending", concerts.bob)).json()
    got = await client.get(path, headers=concerts.bob)
    assert got.status_code == 200
    assert got.json() == put
    detail = (await client.get(f"/api/v1/concerts/{concert_id}", headers=concerts.bob)).json()
    assert detail["my_status"] == "Not Attending"


async def test_the_same_status_again_changes_nothing(
    concerts: Concerts, client: httpx.AsyncClient
) -> None:
    concert_id = await concerts.add_concert()
    first = (await _put(client, concert_id, "Attending", concerts.alice)).json()
    second = (await _put(client, concert_id, "Attending", concerts.alice)).json()
    assert second == first
    assert len(await concerts.outbox("concerts.attendance.")) == 1
    withdrawn_twice = [await _put(client, concert_id, "-", concerts.bob) for _ in range(2)]
    assert [response.status_code for response in withdrawn_twice] == [200, 200]
    assert len(await concerts.outbox("concerts.attendance.")) == 1


async def test_unknown_concert_is_404_and_stores_nothing(
    concerts: Concerts, client: httpx.AsyncClient
) -> None:
    for concert_id in (4242, 2**40):
        response = await _put(client, concert_id, "Attending", concerts.alice)
        assert response.status_code == 404
        assert response.json() == {"detail": f"Concert with id {concert_id} not found"}
        got = await client.get(f"/api/v1/concerts/{concert_id}/attendance", headers=concerts.alice)
        assert got.status_code == 404
    assert await concerts.attendance_rows() == []
    assert await concerts.outbox() == []


async def test_each_user_has_their_own_answer(
    concerts: Concerts, client: httpx.AsyncClient
) -> None:
    concert_id = await concerts.add_concert()
    await _put(client, concert_id, "Attending", concerts.alice)
    await _put(client, concert_id, "Not Attending", concerts.bob)
    await _put(client, concert_id, "-", concerts.bob)  # Bob's withdrawal leaves Alice's answer

    assert await concerts.attendance_rows() == [(ALICE_ID, concert_id, "Attending")]
    bob = await client.get(f"/api/v1/concerts/{concert_id}/attendance", headers=concerts.bob)
    assert bob.json()["status"] == "-"
    assert bob.json()["attending_count"] == 1


async def test_a_user_cannot_act_for_another(concerts: Concerts, client: httpx.AsyncClient) -> None:
    """No body field or parameter names whose answer it is: the token decides."""
    concert_id = await concerts.add_concert()
    smuggled = await client.put(
        f"/api/v1/concerts/{concert_id}/attendance",
        json={"status": "Attending", "user_id": BOB_ID},
        headers=concerts.alice,
    )
    assert smuggled.status_code == 422
    assert "user_id" in str(smuggled.json())
    by_query = await client.put(
        f"/api/v1/concerts/{concert_id}/attendance?user_id={BOB_ID}",
        json={"status": "Attending"},
        headers=concerts.alice,
    )
    assert by_query.status_code == 200
    assert await concerts.attendance_rows() == [(ALICE_ID, concert_id, "Attending")]
    bob_sees = (await client.get("/api/v1/me/concerts", headers=concerts.bob)).json()
    assert bob_sees["count"] == 0
    bob_detail = await client.get(
        f"/api/v1/concerts/{concert_id}/attendance?user_id={ALICE_ID}", headers=concerts.bob
    )
    assert bob_detail.json()["status"] == "-"


async def test_me_concerts_lists_only_the_callers_answers(
    concerts: Concerts, client: httpx.AsyncClient
) -> None:
    now = datetime.now(UTC)
    past = await concerts.add_concert("Past", date=now - timedelta(days=10))
    later = await concerts.add_concert("Later", date=now + timedelta(days=20))
    sooner = await concerts.add_concert("Sooner", date=now + timedelta(days=5))
    await concerts.add_concert("Unanswered", date=now + timedelta(days=6))
    await _put(client, later, "Attending", concerts.alice)
    await _put(client, past, "Attending", concerts.alice)
    await _put(client, sooner, "Not Attending", concerts.alice)
    await _put(client, later, "Attending", concerts.bob)
    await _put(client, sooner, "Attending", concerts.bob)

    page = (await client.get("/api/v1/me/concerts", headers=concerts.alice)).json()
    assert page["count"] == 3
    assert [item["concert"]["id"] for item in page["results"]] == [past, sooner, later]
    assert [item["status"] for item in page["results"]] == [
        "Attending",
        "Not Attending",
        "Attending",
    ]
    by_id = {item["concert"]["id"]: item for item in page["results"]}
    assert by_id[later]["concert"]["attending_count"] == 2
    assert by_id[sooner]["concert"]["attending_count"] == 1
    assert by_id[sooner]["concert"]["my_status"] == "Not Attending"
    assert by_id[later]["concert"]["concert_name"] == "Later"

    async def ids(query: str) -> list[int]:
        response = await client.get(f"/api/v1/me/concerts?{query}", headers=concerts.alice)
        assert response.status_code == 200, response.text
        return [item["concert"]["id"] for item in response.json()["results"]]

    assert await ids("status=Attending") == [past, later]
    assert await ids("status=Not%20Attending") == [sooner]
    assert await ids("upcoming=true") == [sooner, later]
    assert await ids("upcoming=false") == [past]
    assert await ids("page_size=1&page=2") == [sooner]
    bad = await client.get("/api/v1/me/concerts?status=Maybe", headers=concerts.alice)
    assert bad.status_code == 422
    assert "status" in str(bad.json()["detail"])


async def test_attendees_for_the_admin(concerts: Concerts, client: httpx.AsyncClient) -> None:
    concert_id = await concerts.add_concert()
    other = await concerts.add_concert("Other")
    await _put(client, concert_id, "Attending", concerts.bob)
    await _put(client, concert_id, "Not Attending", concerts.alice)
    await _put(client, concert_id, "Attending", concerts.admin)
    await _put(client, other, "Attending", concerts.alice)
    path = f"/api/v1/concerts/{concert_id}/attendees"

    page = (await client.get(path, headers=concerts.admin)).json()
    assert page["count"] == 3
    assert [(item["user_id"], item["status"]) for item in page["results"]] == [
        (ADMIN_ID, "Attending"),
        (ALICE_ID, "Not Attending"),
        (BOB_ID, "Attending"),
    ]
    assert all(
        datetime.fromisoformat(item["updated_at"]).utcoffset() == timedelta(0)
        for item in page["results"]
    )
    attending = (await client.get(f"{path}?status=Attending", headers=concerts.admin)).json()
    assert [item["user_id"] for item in attending["results"]] == [ADMIN_ID, BOB_ID]
    declined = (
        await client.get(f"{path}?status=Not Attending&page_size=1", headers=concerts.admin)
    ).json()
    assert [item["user_id"] for item in declined["results"]] == [ALICE_ID]
    assert declined["next"] is None
    assert (await client.get(f"{path}?status=maybe", headers=concerts.admin)).status_code == 422
    unknown = await client.get("/api/v1/concerts/999/attendees", headers=concerts.admin)
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "Concert with id 999 not found"}


async def test_attendees_of_a_concert_without_answers(
    concerts: Concerts, client: httpx.AsyncClient
) -> None:
    concert_id = await concerts.add_concert()
    page = await client.get(f"/api/v1/concerts/{concert_id}/attendees", headers=concerts.admin)
    assert page.json() == {"count": 0, "next": None, "previous": None, "results": []}


async def test_a_stored_dash_reads_as_no_answer(
    concerts: Concerts, client: httpx.AsyncClient
) -> None:
    """The table allows "-" (the service deletes instead): such a row is no answer anywhere."""
    concert_id = await concerts.add_concert()
    await concerts.add_attendance(ALICE_ID, concert_id, "-")

    own = (
        await client.get(f"/api/v1/concerts/{concert_id}/attendance", headers=concerts.alice)
    ).json()
    assert (own["status"], own["updated_at"]) == ("-", None)
    mine = (await client.get("/api/v1/me/concerts", headers=concerts.alice)).json()
    assert mine["count"] == 0
    attendees = await client.get(f"/api/v1/concerts/{concert_id}/attendees", headers=concerts.admin)
    assert attendees.json()["count"] == 0

    changed = (await _put(client, concert_id, "Attending", concerts.alice)).json()
    assert (changed["status"], changed["attending_count"]) == ("Attending", 1)
    (event,) = await concerts.outbox("concerts.attendance.")
    assert event["payload"]["previous_status"] == "-"
