"""Journeys: the concert calendar, attending a concert (the count changes in place, and without
JavaScript as a plain form), the concerts one attends. Bad input:
`tests/web/test_concerts_pages.py`."""

from __future__ import annotations

import uuid
from typing import Any

from playwright.sync_api import Browser, Page, expect

from tests.web.browser.admin_api import create
from tests.web.browser.conftest import Site
from tests.web.browser.looking import look, sign_up

PASSWORD = "Concert-Pass-1"


def _concert(site: Site, city: str, date: str = "2031-05-17T20:00:00Z") -> dict[str, Any]:
    return create(
        site,
        "/api/v1/concerts",
        {
            "concert_name": f"Harbour Lights {uuid.uuid4().hex[:6]}",
            "duration": 110,
            "city": city,
            "date": date,
            "venue": "The Old Customs House",
            "description": "Brass, strings and a choir on the quay.",
        },
    )


def test_the_calendar_filters_by_city_and_dates_upcoming_and_past(page: Page, site: Site) -> None:
    city = f"Testport {uuid.uuid4().hex[:6]}"
    upcoming = _concert(site, city)
    past = _concert(site, city, date="2021-03-02T19:30:00Z")

    page.goto("/concerts")
    expect(page.get_by_role("heading", name="Upcoming concerts", level=1)).to_be_visible()
    look(page, "concerts")

    page.get_by_label("City").fill(city)
    page.get_by_label("From").fill("2031-05-01")
    page.get_by_label("To").fill("2031-05-31")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("link", name=upcoming["concert_name"])).to_be_visible()
    expect(page.get_by_text("1 concert", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=past["concert_name"])).to_have_count(0)

    page.goto(f"/concerts?when=past&city={city}")
    expect(page.get_by_role("heading", name="Past concerts", level=1)).to_be_visible()
    expect(page.get_by_role("link", name=past["concert_name"])).to_be_visible()
    expect(page.get_by_role("link", name=upcoming["concert_name"])).to_have_count(0)
    look(page, "concerts past")

    page.goto("/concerts?city=Nowhere-At-All")
    expect(page.get_by_text("No concert matches these filters.")).to_be_visible()


def test_attend_a_concert_and_see_the_count_change(page: Page, site: Site) -> None:
    concert = _concert(site, "Lisbon")
    sign_up(page, f"fan{uuid.uuid4().hex[:8]}", PASSWORD)
    page.goto(f"/concerts/{concert['id']}")
    count = page.locator("[data-count]")
    expect(count).to_have_text("0")
    page.evaluate("window.stillTheSamePage = true")

    page.get_by_role("button", name="Attending", exact=True).click()
    expect(count).to_have_text("1")
    expect(page.get_by_role("button", name="Attending", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.get_by_text("You attend this concert.")).to_be_visible()
    # The keyboard focus stays on the button pressed.
    expect(page.get_by_role("button", name="Attending", exact=True)).to_be_focused()
    assert page.evaluate("window.stillTheSamePage") is True  # answered in place, no reload
    look(page, "concert")

    page.goto("/concerts/mine")
    expect(page.get_by_role("link", name=concert["concert_name"])).to_be_visible()
    look(page, "my concerts")

    page.goto(f"/concerts/{concert['id']}")
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_role("button", name="Not attending").click()
    expect(count).to_have_text("0")
    expect(page.get_by_role("button", name="Not attending")).to_have_attribute(
        "aria-pressed", "true"
    )
    assert page.evaluate("window.stillTheSamePage") is True

    page.goto("/concerts/mine")
    expect(page.get_by_role("link", name=concert["concert_name"])).to_have_count(0)
    expect(page.get_by_text("You are not attending any upcoming concert.")).to_be_visible()


def test_attending_works_as_a_plain_form_without_javascript(browser: Browser, site: Site) -> None:
    concert = _concert(site, "Glasgow")
    context = browser.new_context(base_url=site.base, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_up(page, f"plain{uuid.uuid4().hex[:8]}", PASSWORD)
        page.goto(f"/concerts/{concert['id']}")
        page.get_by_role("button", name="Attending", exact=True).click()
        expect(page.get_by_role("status").first).to_have_text("You attend.")
        expect(page.locator("[data-count]")).to_have_text("1")
    finally:
        context.close()


def test_anonymous_visitors_are_asked_to_log_in_to_answer(page: Page, site: Site) -> None:
    concert = _concert(site, "Porto")
    page.goto(f"/concerts/{concert['id']}")
    expect(page.get_by_role("link", name="Log in").last).to_be_visible()
    expect(page.get_by_role("button", name="Attending", exact=True)).to_have_count(0)
    look(page, "concert anonymous")
