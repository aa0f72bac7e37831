"""The canonical listing API: create, read, filter, order, change and delete."""

from __future__ import annotations

import httpx
import pytest

from tests.marketplace.conftest import ADMIN_ID, INSTRUMENT, Marketplace
from tests.support.bodies import assert_lists_exactly


async def test_create_then_read(marketplace: Marketplace, client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/instruments", json=INSTRUMENT, headers=marketplace.admin)

    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/api/v1/instruments/{body['id']}"
    assert {key: body[key] for key in INSTRUMENT} == INSTRUMENT
    assert body["created_at"] == body["updated_at"]
    public = await client.get(response.headers["location"])
    assert public.status_code == 200
    assert public.json() == body
    (event,) = await marketplace.outbox()
    assert event["type"] == "marketplace.instrument.created"
    assert event["payload"] == {
        "instrument_id": body["id"],
        "name": INSTRUMENT["name"],
        "actor_id": ADMIN_ID,
    }


async def test_prices_are_decimal_strings_with_two_places(
    marketplace: Marketplace, client: httpx.AsyncClient
) -> None:
    whole = {**INSTRUMENT, "price": 120}
    response = await client.post("/api/v1/instruments", json=whole, headers=marketplace.admin)
    assert response.json()["price"] == "120.00"
    free = {**INSTRUMENT, "link": "https://x.example/2", "price": None}
    response = await client.post("/api/v1/instruments", json=free, headers=marketplace.admin)
    assert response.json()["price"] is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "x" * 501),
        ("link", "l" * 1001),
        ("website", "w" * 501),
        ("image", "i" * 1001),
        ("location", "l" * 501),
        ("category", "c" * 201),
        ("price", "cheap"),
        ("price", "1.234"),
        ("price", -1),
        ("price", "100000000"),
        ("expiration", "31/01/2027"),
        ("publish", "2027-02-30"),
        ("name", "nul\x00"),
    ],
)
async def test_bad_fields_are_refused_by_name_and_nothing_is_stored(
    marketplace: Marketplace, client: httpx.AsyncClient, field: str, value: object
) -> None:
    body = {**INSTRUMENT, field: value}
    response = await client.post("/api/v1/instruments", json=body, headers=marketplace.admin)

    assert response.status_code == 422, response.text
    assert field in [part for error in response.json()["detail"] for part in error["loc"]]
    assert await marketplace.count() == 0


async def test_a_taken_link_is_a_conflict(
    marketplace: Marketplace, client: httpx.AsyncClient
) -> None:
    await client.post("/api/v1/instruments", json=INSTRUMENT, headers=marketplace.admin)
    again = await client.post("/api/v1/instruments", json=INSTRUMENT, headers=marketplace.admin)

    assert again.status_code == 409
    assert again.json()["link"] == ["instrument with this link already exists."]
    assert await marketplace.count() == 1


async def test_patch_changes_only_what_is_sent(
    marketplace: Marketplace, client: httpx.AsyncClient
) -> None:
    created = await client.post("/api/v1/instruments", json=INSTRUMENT, headers=marketplace.admin)
    url = created.headers["location"]

    response = await client.patch(
        url, json={"price": "399.99", "category": None}, headers=marketplace.admin
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["price"] == "399.99"
    assert body["category"] is None
    assert body["name"] == INSTRUMENT["name"]
    assert body["updated_at"] >= body["created_at"]
    unchanged = await client.patch(url, json={"price": "399.99"}, headers=marketplace.admin)
    assert unchanged.json() == body
    events = [event["type"] for event in await marketplace.outbox()]
    assert events == ["marketplace.instrument.created", "marketplace.instrument.updated"]
    found = await client.get("/api/v1/instruments?search=alhambra")
    assert [item["id"] for item in found.json()["results"]] == [body["id"]]
    renamed = await client.patch(url, json={"name": "Yamaha C40"}, headers=marketplace.admin)
    assert renamed.status_code == 200
    assert (await client.get("/api/v1/instruments?search=alhambra")).json()["count"] == 0
    assert (await client.get("/api/v1/instruments?search=yamaha")).json()["count"] == 1


async def test_patch_refuses_null_required_fields_and_taken_links(
    marketplace: Marketplace, client: httpx.AsyncClient
) -> None:
    first = await client.post("/api/v1/instruments", json=INSTRUMENT, headers=marketplace.admin)
    other = {**INSTRUMENT, "link": "https://x.example/other"}
    second = await client.post("/api/v1/instruments", json=other, headers=marketplace.admin)

    nulled = await client.patch(
        second.headers["location"], json={"name": None}, headers=marketplace.admin
    )
    assert nulled.status_code == 422
    taken = await client.patch(
        second.headers["location"], json={"link": INSTRUMENT["link"]}, headers=marketplace.admin
    )
    assert taken.status_code == 409
    extra = await client.patch(
        first.headers["location"], json={"id": 99}, headers=marketplace.admin
    )
    assert extra.status_code == 422


async def test_delete(marketplace: Marketplace, client: httpx.AsyncClient) -> None:
    created = await client.post("/api/v1/instruments", json=INSTRUMENT, headers=marketplace.admin)
    url = created.headers["location"]

    assert (await client.delete(url, headers=marketplace.admin)).status_code == 204
    assert (await client.get(url)).status_code == 404
    assert (await client.delete(url, headers=marketplace.admin)).status_code == 404
    assert (await client.get("/api/v1/instruments?search=guitarra")).json()["count"] == 0
    assert (await marketplace.outbox())[-1]["type"] == "marketplace.instrument.deleted"


async def test_unknown_and_out_of_range_ids_are_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/instruments/1")).status_code == 404
    assert (await client.get("/api/v1/instruments/99999999999")).status_code == 422


@pytest.mark.parametrize("ordering", [None, "price", "-price", "publish", "-publish"])
async def test_a_listed_instrument_is_written_exactly_as_the_instrument_alone(
    marketplace: Marketplace, ordering: str | None
) -> None:
    ids = await marketplace.add_many(
        [
            {"name": "Guitarra «Española»", "price": "120.50", "publish": "2026-03-01"},
            {"name": 'Bajo "Fender"\nJazz', "price": "0", "location": "Málaga"},
            {"name": "Violín", "image": "https://example.com/v.jpg", "category": "Cuerda"},
            {"name": "Piano", "price": "99999.99", "publish": "2025-12-31"},
        ]
    )
    params = {"ordering": ordering} if ordering else {}
    listed = await marketplace.client.get("/api/v1/instruments", params=params)
    assert listed.status_code == 200
    order = [item["id"] for item in listed.json()["results"]]
    assert sorted(order) == sorted(ids)
    alone = [(await marketplace.client.get(f"/api/v1/instruments/{n}")).content for n in order]
    assert_lists_exactly(listed.content, alone)
