"""The movie and order pages given bad input: a 4xx page that names the field, never a 500;
ordering without JavaScript, and an order's status fragment. In-process, over ASGI."""

from __future__ import annotations

import uuid

from tests.web.inprocess import Pages


async def _movie(pages: Pages) -> int:
    movie = await pages.create(
        "/api/v1/movies",
        {"title": "Night Ferry", "description": "A crossing.", "genres": ["Drama"]},
    )
    return int(movie["id"])


async def test_bad_input_is_a_4xx_page_never_a_500(pages: Pages) -> None:
    for query, field in (
        ({"title": "x" * 300}, "title"),
        ({"page": "abc"}, "page"),
    ):
        page = await pages.client.get("/movies", params=query)
        assert page.status_code == 400, query
        assert f"These values are not valid: {field}." in page.text
    refused = await pages.client.get("/movies", params={"genre": "\x00"})
    assert refused.status_code == 400
    assert "Genre: " in refused.text
    # Short words beside longer ones are searched like any other.
    assert (await pages.client.get("/movies", params={"title": "no such film"})).status_code == 200
    assert (await pages.client.get("/movies/0")).status_code == 400
    assert (await pages.client.get("/movies/2147483647")).status_code == 404
    assert (await pages.client.get("/orders")).status_code == 303
    assert (await pages.client.get(f"/orders/{uuid.uuid4()}/status")).status_code == 303
    assert (await pages.client.get("/orders/not-an-id/status")).status_code == 400


async def test_an_order_placed_without_javascript(pages: Pages) -> None:
    movie = await _movie(pages)
    anonymous = await pages.post(f"/movies/{movie}/order", copies="1")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login?next=")

    await pages.sign_up("viv")
    for copies in ("0", "6", "two", ""):
        refused = await pages.post(f"/movies/{movie}/order", copies=copies)
        assert refused.status_code == 400, copies
        assert "Choose between 1 and 5 copies." in refused.text
    placed = await pages.post(f"/movies/{movie}/order", copies="3")
    assert placed.status_code == 303
    assert placed.headers["location"] == "/orders"
    orders = await pages.client.get("/orders")
    assert "3 items · €11.97" in orders.text
    # No worker runs here: the order stays pending, and its row keeps asking.
    assert 'hx-trigger="every 1s"' in orders.text
    order_id = orders.text.split('id="order-', 1)[1].split('"', 1)[0]
    row = await pages.client.get(f"/orders/{order_id}/status", headers={"HX-Request": "true"})
    assert row.status_code == 200
    assert row.text.lstrip().startswith(f'<li id="order-{order_id}"')
    assert 'data-status="pending"' in row.text
    plain = await pages.client.get(f"/orders/{order_id}/status")
    assert plain.status_code == 303
    missing = await pages.client.get(
        f"/orders/{uuid.uuid4()}/status", headers={"HX-Request": "true"}
    )
    assert missing.status_code in (204, 404)
