"""Journeys: searching the instrument listings with a category facet and a price bound (the
results and the facet counts change), listings linking out to their source; and the filters
the search refuses."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from tests.web.browser.admin_api import create
from tests.web.browser.conftest import Site
from tests.web.browser.looking import look


def _listings(site: Site) -> tuple[str, str, str]:
    """Four listings on a site of their own: three theremins (50, 150, 400) and a ukulele (80)."""
    tag = uuid.uuid4().hex[:6]
    website, theremins, ukuleles = f"sounds-{tag}.example", f"Theremins {tag}", f"Ukuleles {tag}"
    for name, category, price in (
        ("Moog Etherwave theremin", theremins, "50.00"),
        ("Moog Claravox theremin", theremins, "150.00"),
        ("Open.Theremin kit", theremins, "400.00"),
        ("Kala soprano ukulele", ukuleles, "80.00"),
    ):
        create(
            site,
            "/api/v1/instruments",
            {
                "name": name,
                "price": price,
                "link": f"https://{website}/listing/{uuid.uuid4().hex[:10]}",
                "location": "Valencia",
                "category": category,
                "publish": "2026-11-20",
                "website": website,
            },
        )
    return website, theremins, ukuleles


def test_search_with_a_facet_and_a_price_bound(page: Page, site: Site) -> None:
    website, theremins, ukuleles = _listings(site)
    page.goto("/instruments")
    expect(page.get_by_role("heading", name="Second-hand instruments")).to_be_visible()
    look(page, "instruments")
    # axe-core leaves empty `style` attributes behind, which htmx's history snapshot (taken
    # when a search pushes its URL) would copy against the style policy: a fresh page.
    page.reload()

    page.get_by_label("Site").fill(website)
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(f"/instruments?website={website}")  # the search's own address
    results = page.locator("#results-heading")
    expect(results).to_have_text("4 listings")
    facets = page.get_by_role("navigation", name="Categories")
    expect(facets.get_by_role("link", name=f"{theremins} 3 listings")).to_be_visible()
    expect(facets.get_by_role("link", name=f"{ukuleles} 1 listings")).to_be_visible()

    facets.get_by_role("link", name=f"{theremins} 3 listings").click()
    expect(results).to_contain_text("3 listings")
    expect(facets.get_by_role("link", name=f"{theremins} 3 listings")).to_have_attribute(
        "aria-current", "true"
    )
    category = theremins.replace(" ", "+")
    expect(page).to_have_url(f"/instruments?category={category}&website={website}")

    page.get_by_label("Max price (€)").fill("200")
    page.get_by_label("Order").select_option("-price")
    page.get_by_role("button", name="Search").click()
    expect(results).to_contain_text("2 listings")
    # The facet counts follow the other filters: one theremin is above the bound now.
    expect(facets.get_by_role("link", name=f"{theremins} 2 listings")).to_be_visible()
    expect(facets.get_by_role("link", name=f"{ukuleles} 1 listings")).to_be_visible()
    names = page.locator(".listing-name")
    expect(names).to_have_text(["Moog Claravox theremin", "Moog Etherwave theremin"])
    expect(page).to_have_url(
        f"/instruments?category={category}&website={website}&max_price=200&ordering=-price"
    )

    source = page.get_by_role("link", name="View on " + website).first
    expect(source).to_have_attribute("rel", "noopener noreferrer")
    expect(source).to_have_attribute("target", "_blank")
    expect(source).to_contain_text("opens the source site")
    look(page, "instruments filtered")

    page.get_by_role("link", name=f"Remove category: {theremins}").click()
    expect(results).to_have_text("3 listings")


def test_a_refused_filter_is_shown_beside_its_field(page: Page) -> None:
    page.goto("/instruments")
    page.get_by_label("Min price (€)").fill("500")
    page.get_by_label("Max price (€)").fill("100")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("Min price (€): must not be greater than")).to_be_visible()
    expect(page.get_by_label("Min price (€)")).to_have_attribute("aria-invalid", "true")
    look(page, "instruments refused")
