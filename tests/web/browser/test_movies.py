"""Journeys: the movie catalogue (title search, genre filter), ordering a movie and watching the
order go from pending to completed on the orders page without a reload (billing's worker runs as
a child of `bandstand up`). Bad input: `tests/web/test_movies_pages.py`."""

from __future__ import annotations

import uuid
from typing import Any

from playwright.sync_api import Page, expect

from tests.web.browser.admin_api import create
from tests.web.browser.conftest import Site
from tests.web.browser.looking import look, sign_up

PASSWORD = "Movie-Pass-1"


def _movie(site: Site) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:6]
    return create(
        site,
        "/api/v1/movies",
        {
            "title": f"The Lighthouse Keeper {tag}",
            "description": "A keeper, a storm and a radio that only plays one song.",
            "release_year": 2024,
            "genres": ["Drama", f"Seafaring {tag}"],
            "duration_minutes": 104,
        },
    )


def test_search_the_catalogue_by_title_and_genre(page: Page, site: Site) -> None:
    movie = _movie(site)
    seafaring = movie["genres"][1]
    page.goto("/movies")
    expect(page.get_by_role("heading", name="Movies", level=1)).to_be_visible()
    look(page, "movies")
    page.reload()  # look() leaves axe's empty style attributes, which htmx's history copies

    page.get_by_label("Title").fill("lighthouse keeper")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url("/movies?title=lighthouse+keeper")
    expect(page.get_by_role("link", name=movie["title"])).to_be_visible()

    page.goto("/movies")
    page.get_by_label("Genre", exact=True).fill(seafaring.lower())
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("1 movie", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=movie["title"])).to_be_visible()

    page.goto("/movies?title=no+such+film+anywhere")
    expect(page.get_by_text("No movie matches this search.")).to_be_visible()


def test_order_a_movie_and_see_it_complete(page: Page, site: Site) -> None:
    movie = _movie(site)
    page.goto(f"/movies/{movie['id']}")
    expect(page.get_by_role("link", name="Log in").last).to_be_visible()
    look(page, "movie anonymous")

    sign_up(page, f"viewer{uuid.uuid4().hex[:8]}", PASSWORD)
    page.goto(f"/movies/{movie['id']}")
    expect(page.get_by_role("heading", name=movie["title"])).to_be_visible()
    look(page, "movie")
    page.get_by_label("Copies").select_option("2")
    page.get_by_role("button", name="Place order").click()

    expect(page).to_have_url("/orders")
    expect(page.get_by_role("status")).to_contain_text(f"2 copies of {movie['title']} is placed")
    order = page.locator(".order-row").first
    expect(order).to_contain_text("2 items · €7.98")
    first_seen = order.locator("[data-status]").get_attribute("data-status")
    page.evaluate("window.stillTheSamePage = true")

    expect(order.locator("[data-status]")).to_have_attribute(
        "data-status", "completed", timeout=20_000
    )
    expect(order).to_contain_text("Completed")
    expect(order).to_contain_text("Net €6.65 + tax €1.33")
    expect(order).not_to_have_attribute("hx-trigger", "every 1s")  # it stopped asking
    # The worker bills from its queue a moment after the order is placed: a row first seen
    # pending changed in place, without the page being loaded again. A worker that billed it
    # before the page was written (seen with RabbitMQ in distributed mode) shows it completed.
    assert first_seen in ("pending", "completed")
    assert page.evaluate("window.stillTheSamePage") is True
    look(page, "orders")


def test_a_pending_order_asks_for_its_status_until_it_is_billed(page: Page, site: Site) -> None:
    """A row asks for its status while pending and stops once billed."""
    sign_up(page, f"waiter{uuid.uuid4().hex[:8]}", PASSWORD)
    movie = _movie(site)
    page.goto(f"/movies/{movie['id']}")
    page.get_by_role("button", name="Place order").click()
    expect(page).to_have_url("/orders")
    status_requests: list[str] = []
    page.on("request", lambda r: status_requests.append(r.url) if "/status" in r.url else None)
    row = page.locator(".order-row").first
    expect(row.locator("[data-status]")).to_have_attribute(
        "data-status", "completed", timeout=20_000
    )
    count = len(status_requests)
    page.wait_for_timeout(2500)
    assert len(status_requests) == count  # no more polling once completed
