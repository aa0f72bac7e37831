"""With its database unreachable every inventory route answers 503 with a clear message, the
inherited ones under their `error` key too; nothing is a 500."""

from __future__ import annotations

from collections.abc import Callable

from bandstand.platform.settings import Settings
from tests.inventory.conftest import movie_body, running_inventory
from tests.support.tokens import TokenFactory

UNREACHABLE = "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"


async def test_database_down_is_503_on_every_route(make_settings: Callable[..., Settings]) -> None:
    tokens = TokenFactory()
    settings = make_settings(databases={"inventory": UNREACHABLE})
    async with running_inventory(settings, tokens) as inventory:
        requests = [
            ("GET", "/api/v1/movies", None),
            ("GET", "/api/v1/movies/1", None),
            ("POST", "/api/v1/movies", movie_body()),
            ("PATCH", "/api/v1/movies/1", {"title": "x"}),
            ("DELETE", "/api/v1/movies/1", None),
            ("GET", "/api/movies", None),
            ("GET", "/api/movies/1", None),
            ("POST", "/api/movies", movie_body()),
            ("PUT", "/api/movies/1", {"title": "x"}),
            ("DELETE", "/api/movies", None),
        ]
        for method, path, body in requests:
            response = await inventory.client.request(
                method, path, json=body, headers=inventory.admin
            )
            assert response.status_code == 503, (method, path, response.text)
            error = response.json()
            assert "Database unavailable" in error["detail"]
            if path.startswith("/api/movies"):
                assert error["error"] == error["detail"]
        ready = await inventory.client.get("/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"]["status"] == "down"
