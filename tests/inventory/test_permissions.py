"""Who may do what, on every route: reads are public, every write needs an admin. A refused
write changes nothing and publishes nothing."""

from __future__ import annotations

import pytest

from tests.inventory.conftest import ADMIN_ID, Inventory, movie_body

# (method, path, body, the admin's status); "{id}" is an existing movie's id.
WRITES = [
    ("POST", "/api/v1/movies", movie_body(5), 201),
    ("PUT", "/api/v1/movies/{id}", movie_body(6), 200),
    ("PATCH", "/api/v1/movies/{id}", {"title": "Changed"}, 200),
    ("DELETE", "/api/v1/movies/{id}", None, 204),
    ("POST", "/api/movies", movie_body(7), 201),
    ("PUT", "/api/movies/{id}", {"title": "Changed"}, 200),
    ("DELETE", "/api/movies/{id}", None, 200),
    ("DELETE", "/api/movies", None, 200),
]
READS = ["/api/v1/movies", "/api/v1/movies/{id}", "/api/movies", "/api/movies/{id}"]


async def test_reads_are_public(inventory: Inventory) -> None:
    movie = await inventory.add_movie(1)
    for path in READS:
        url = path.format(id=movie["id"])
        for headers in ({}, inventory.user, inventory.admin):
            response = await inventory.client.get(url, headers=headers)
            assert response.status_code == 200, (url, headers, response.text)


@pytest.mark.parametrize(("method", "path", "body", "admin_status"), WRITES)
async def test_writes_need_an_admin(
    inventory: Inventory, method: str, path: str, body: dict[str, object] | None, admin_status: int
) -> None:
    movie = await inventory.add_movie(1)
    url = path.format(id=movie["id"])
    before = await inventory.snapshot()
    expired = inventory.tokens.token(user_id=ADMIN_ID, role="admin", lifetime=-60)
    refusals = [
        ({}, 401),
        ({"Authorization": "Bearer not-a-token"}, 401),
        ({"Authorization": f"Bearer {expired}"}, 401),
        (inventory.user, 403),
        (inventory.tokens.headers(user_id=9, role="instructor"), 403),
    ]
    for headers, expected in refusals:
        response = await inventory.client.request(method, url, json=body, headers=headers)
        assert response.status_code == expected, (method, url, headers, response.text)
        if expected == 401:
            assert response.headers["www-authenticate"] == "Bearer"
    assert await inventory.snapshot() == before

    response = await inventory.client.request(method, url, json=body, headers=inventory.admin)
    assert response.status_code == admin_status, response.text
    assert await inventory.snapshot() != before
