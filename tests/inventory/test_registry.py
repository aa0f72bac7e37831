"""Inventory in the composition root: the gateway routes the movie paths to it, and its OpenAPI
document lists every route."""

from __future__ import annotations

from bandstand import registry
from tests.inventory.conftest import Inventory


def test_the_gateway_routes_movies_to_inventory() -> None:
    table = registry.route_table()
    for path in ("/api/v1/movies", "/api/v1/movies/3", "/api/movies", "/api/movies/3"):
        assert table.match(path) == "inventory", path
    assert table.match("/api/moviesx") is None
    assert registry.service("inventory").default_port == 8005


async def test_the_openapi_document_lists_every_route(inventory: Inventory) -> None:
    response = await inventory.client.get("/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert set(paths["/api/v1/movies"]) == {"get", "post"}
    assert set(paths["/api/v1/movies/{movie_id}"]) == {"get", "put", "patch", "delete"}
    assert set(paths["/api/movies"]) == {"get", "post", "delete"}
    assert set(paths["/api/movies/{movie_id}"]) == {"get", "put", "delete"}
    body = paths["/api/movies"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert {"title", "description"} <= set(body["properties"])
