"""The inherited routes of contract B: /listInstrument, /searchInstrument, /addInstrument."""

from __future__ import annotations

import itertools

import httpx

from tests.marketplace.conftest import INSTRUMENT, Marketplace

FIELDS = {
    "id",
    "name",
    "price",
    "link",
    "image",
    "location",
    "category",
    "expiration",
    "publish",
    "website",
}


async def _fill(marketplace: Marketplace, count: int, **fields: str) -> list[int]:
    rows = [{"name": f"Guitarra número {n}", **fields} for n in range(count)]
    return await marketplace.add_many(rows)


async def test_list_pages_hold_50_in_id_order(
    marketplace: Marketplace, client: httpx.AsyncClient
) -> None:
    ids = await _fill(marketplace, 120, price="100")

    first = (await client.get("/listInstrument")).json()
    assert set(first) == {"next", "previous", "count", "total_pages", "current_page", "results"}
    assert (first["count"], first["total_pages"], first["current_page"]) == (120, 3, 1)
    assert [item["id"] for item in first["results"]] == ids[:50]
    assert set(first["results"][0]) == FIELDS
    assert first["results"][0]["price"] == "100.00"
    assert first["previous"] is None
    assert first["next"] == "http://testserver/listInstrument?page=2"
    second = (await client.get(first["next"])).json()
    assert [item["id"] for item in second["results"]] == ids[50:100]
    assert second["previous"] == "http://testserver/listInstrument"
    last = (await client.get("/listInstrument/?page=3")).json()
    assert [item["id"] for item in last["results"]] == ids[100:]
    assert last["next"] is None


async def test_list_filters_keep_the_other_parameters_in_the_links(
    marketplace: Marketplace, client: httpx.AsyncClient
) -> None:
    await _fill(marketplace, 60, category="Guitarras", price="300")
    await _fill_other(marketplace)
    page = (
        await client.get("/listInstrument?category=GUITARRAS&minPrice=200&maxPrice=Infinity")
    ).json()
    assert page["count"] == 60
    assert "category=GUITARRAS" in page["next"]
    assert "page=2" in page["next"]
    cheap = (await client.get("/listInstrument?maxPrice=250")).json()
    assert [item["name"] for item in cheap["results"]] == ["Bajo barato"]


async def _fill_other(marketplace: Marketplace) -> None:
    await marketplace.add(
        "Bajo barato", link="https://l.example/bass", price="80", category="Bajos"
    )


async def test_invalid_pages_are_404_invalid_page(
    marketplace: Marketplace, client: httpx.AsyncClient
) -> None:
    await _fill(marketplace, 51)
    pages = ["0", "-1", "abc", "3", "1.5", "99999999999999999999"]
    paths = ("/listInstrument", "/searchInstrument?name=guitarra&")
    for page, path in itertools.product(pages, paths):
        separator = "" if path.endswith("&") else "?"
        response = await client.get(f"{path}{separator}page={page}")
        assert response.status_code == 404, (path, page)
        assert response.json()["detail"] == "Invalid page."


async def test_an_empty_list_is_one_empty_page(client: httpx.AsyncClient) -> None:
    body = (await client.get("/listInstrument")).json()
    assert body == {
        "next": None,
        "previous": None,
        "count": 0,
        "total_pages": 1,
        "current_page": 1,
        "results": [],
    }


async def test_bad_prices_are_400_naming_the_field(client: httpx.AsyncClient) -> None:
    for path in ("/listInstrument?", "/searchInstrument?name=x&"):
        for query, field in (
            ("minPrice=abc", "minPrice"),
            ("maxPrice=1,2,3", "maxPrice"),
            ("minPrice=10&maxPrice=5", "minPrice"),
        ):
            response = await client.get(f"{path}{query}")
            assert response.status_code == 400, (path, query)
            assert isinstance(response.json()[field], list)


async def test_search_requires_a_name_and_matches_it_ignoring_case_and_accents(
    marketplace: Marketplace, client: httpx.AsyncClient
) -> None:
    wanted = await marketplace.add("Guitarra Clásica Alhambra", link="https://l.example/a")
    await marketplace.add("Piano Yamaha", link="https://l.example/p")

    for query in ("", "?name=", "?page=1"):
        missing = await client.get(f"/searchInstrument{query}")
        assert missing.status_code == 400
        assert missing.json()["name"] == ["This query parameter is required."]
    found = (await client.get("/searchInstrument?name=GUITARRA clasica")).json()
    assert [item["id"] for item in found["results"]] == [wanted]
    assert (found["count"], found["total_pages"], found["current_page"]) == (1, 1, 1)


async def test_add_needs_an_admin_and_answers_the_instrument(
    marketplace: Marketplace, client: httpx.AsyncClient
) -> None:
    assert (await client.post("/addInstrument", json=INSTRUMENT)).status_code == 401
    forbidden = await client.post("/addInstrument", json=INSTRUMENT, headers=marketplace.alice)
    assert forbidden.status_code == 403
    assert await marketplace.count() == 0

    response = await client.post(
        "/addInstrument", json={**INSTRUMENT, "id": 77}, headers=marketplace.admin
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == FIELDS
    assert body["id"] != 77
    assert {key: body[key] for key in INSTRUMENT} == INSTRUMENT


async def test_add_errors_are_drf_field_lists(
    marketplace: Marketplace, client: httpx.AsyncClient
) -> None:
    await client.post("/addInstrument", json=INSTRUMENT, headers=marketplace.admin)
    taken = await client.post("/addInstrument", json=INSTRUMENT, headers=marketplace.admin)
    assert taken.status_code == 400
    assert taken.json()["link"] == ["instrument with this link already exists."]

    missing = await client.post("/addInstrument", json={"price": "x"}, headers=marketplace.admin)
    assert missing.status_code == 400
    body = missing.json()
    assert body["name"] == ["This field is required."]
    assert body["link"] == ["This field is required."]
    assert "price" in body
    for raw in (b"not json", b"[1, 2]"):
        bad = await client.post(
            "/addInstrument",
            content=raw,
            headers={**marketplace.admin, "content-type": "application/json"},
        )
        assert bad.status_code == 400
    assert await marketplace.count() == 1
