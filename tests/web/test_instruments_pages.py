"""The instrument search given bad input: a 4xx page that names the field, never a 500; the
facets' counts under the other filters, and a listing's link out. In-process, over ASGI."""

from __future__ import annotations

import re

import pytest

from tests.web.inprocess import Pages


@pytest.fixture
async def pages(pages: Pages) -> Pages:
    """The shared platform with three listings and one whose link is not a web address."""
    for number, (category, price) in enumerate(
        (("Violins", "90.00"), ("Violins", "400.00"), ("Cellos", "1200.00"))
    ):
        await pages.create(
            "/api/v1/instruments",
            {
                "name": f"{category[:-1]} number {number}",
                "price": price,
                "link": f"https://strings.example/{number}",
                "category": category,
                "website": "strings.example",
                "location": "Sevilla",
            },
        )
    await pages.create(
        "/api/v1/instruments",
        {"name": "Bad link", "link": "javascript:alert(1)", "website": "evil.example"},
    )
    return pages


async def test_bad_prices_and_dates_are_a_400_naming_the_field(pages: Pages) -> None:
    for query, named in (
        ({"min_price": "cheap"}, "Min price (€): must be a number"),
        ({"max_price": "1.234"}, "Max price (€): must have at most 2 decimal places"),
        ({"max_price": "NaN"}, "Max price (€): must be a finite number"),
        ({"min_price": "-5"}, "Min price (€): must not be negative"),
        ({"published_after": "2026-02-30"}, "Published after: must be a date written YYYY-MM-DD"),
        ({"min_price": "300", "max_price": "20"}, "must not be greater than the max price"),
        ({"search": "\x00"}, "Search: "),
    ):
        page = await pages.client.get("/instruments", params=query)
        assert page.status_code == 400, query
        assert named in page.text, (query, page.text[:200])
        assert "Correct the filters above" in page.text
    for query, field in (
        ({"ordering": "cheapest"}, "ordering"),
        ({"page": "-1"}, "page"),
        ({"search": "x" * 501}, "search"),
    ):
        page = await pages.client.get("/instruments", params=query)
        assert page.status_code == 400, query
        assert f"These values are not valid: {field}." in page.text
    # From htmx the errors come as a 200, which it swaps in.
    htmx = await pages.client.get(
        "/instruments", params={"min_price": "cheap"}, headers={"HX-Request": "true"}
    )
    assert htmx.status_code == 200
    assert "Min price (€): must be a number" in htmx.text


async def test_facets_count_under_the_other_filters(pages: Pages) -> None:
    page = await pages.client.get(
        "/instruments", params={"category": "violins", "max_price": "500"}
    )
    assert page.status_code == 200
    facets = dict(
        re.findall(r"<span>([^<]+)</span> <span class=\"count\"[^>]*>(\d+)</span>", page.text)
    )
    assert facets == {"Violins": "2"}  # the cello is above the bound: no facet
    assert "2 listings" in page.text
    assert 'href="https://strings.example/0" rel="noopener noreferrer" target="_blank"' in page.text
    # A link that is not a web address is not made a link.
    everything = await pages.client.get("/instruments")
    assert "javascript:" not in everything.text
    assert "From evil.example" in everything.text
    # htmx is told the search's clean address to show.
    htmx = await pages.client.get(
        "/instruments",
        params={"search": "", "category": "Cellos", "min_price": "", "page": "1"},
        headers={"HX-Request": "true"},
    )
    assert htmx.headers["HX-Push-Url"] == "/instruments?category=Cellos"
