"""The concert pages given bad input: a 4xx page that names the field, never a 500; and the
attendance form without JavaScript. The platform in-process, the pages called over ASGI."""

from __future__ import annotations

from tests.web.inprocess import Pages


async def _concert(pages: Pages) -> int:
    concert = await pages.create(
        "/api/v1/concerts",
        {"concert_name": "Quay Night", "duration": 90, "city": "Porto", "date": "2031-06-01T20:00"},
    )
    return int(concert["id"])


async def test_bad_dates_are_a_400_naming_the_field(pages: Pages) -> None:
    for query, named in (
        ({"date_from": "2031-13-45"}, "From: must be an ISO 8601 date"),
        ({"date_to": "yesterday", "when": "past"}, "To: must be an ISO 8601 date"),
        ({"date_from": "2031-02-30"}, "From: must be an ISO 8601 date"),
        ({"city": "\x00"}, "City: "),
    ):
        page = await pages.client.get("/concerts", params=query)
        assert page.status_code == 400, query
        assert named in page.text, query
        assert 'aria-invalid="true"' in page.text
    for query, field in (
        ({"when": "someday"}, "when"),
        ({"page": "0"}, "page"),
        ({"page": "many"}, "page"),
        ({"city": "x" * 101}, "city"),
    ):
        page = await pages.client.get("/concerts", params=query)
        assert page.status_code == 400, query
        assert f"These values are not valid: {field}." in page.text
    assert (await pages.client.get("/concerts/not-a-number")).status_code == 400
    assert (await pages.client.get("/concerts/0")).status_code == 400
    missing = await pages.client.get("/concerts/2147483647")
    assert missing.status_code == 404
    assert "not found" in missing.text
    assert (await pages.client.get("/concerts/mine?when=never")).status_code == 400


async def test_answering_needs_a_signed_in_visitor(pages: Pages) -> None:
    concert = await _concert(pages)
    assert (await pages.client.get("/concerts/mine")).status_code == 303
    answer = await pages.post(f"/concerts/{concert}/attendance", status="Attending")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")


async def test_the_attendance_form_works_without_javascript(pages: Pages) -> None:
    concert = await _concert(pages)
    await pages.sign_up("ana")
    answer = await pages.post(f"/concerts/{concert}/attendance", status="Attending")
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/concerts/{concert}"
    page = await pages.client.get(f"/concerts/{concert}")
    assert "<strong data-count>1</strong>" in page.text
    assert "You attend." in page.text  # the one-time message
    mine = await pages.client.get("/concerts/mine")
    assert "Quay Night" in mine.text

    refused = await pages.post(f"/concerts/{concert}/attendance", status="Maybe")
    assert refused.status_code == 400
    assert "Choose Attending or Not attending." in refused.text
    htmx = await pages.client.post(
        f"/concerts/{concert}/attendance",
        data={"csrftoken": pages.client.cookies["csrftoken"], "status": "Not Attending"},
        headers={"HX-Request": "true"},
    )
    assert htmx.status_code == 200
    assert htmx.text.lstrip().startswith('<section id="attendance"')
    assert "<strong data-count>0</strong>" in htmx.text
    assert (
        await pages.post("/concerts/2147483647/attendance", status="Attending")
    ).status_code == 404
