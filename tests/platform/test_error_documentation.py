"""Every error a service sends is documented on its route, with the body it really has."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import jsonschema_rs
import pytest

from bandstand.platform.settings import Settings
from tests.platform import sample_service
from tests.platform.test_service_app import build_app, token
from tests.support.client import api_client

ERROR_STATUSES = {"400", "401", "403", "404", "409", "413", "422", "429", "503"}


@pytest.fixture
async def client(
    make_settings: Callable[..., Settings], tmp_path: Any
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(databases={"sample": f"sqlite+aiosqlite:///{tmp_path / 's.sqlite3'}"})
    app = build_app(settings)
    async with app.state.database.engine.begin() as connection:
        await connection.run_sync(sample_service.SampleBase.metadata.create_all)
    async with api_client(app, raise_app_exceptions=False) as http:
        yield http


def _declared(document: dict[str, Any], path: str, method: str, status: int) -> Any:
    responses = document["paths"][path][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {path} does not document {status}"
    schema = responses[str(status)]["content"]["application/json"]["schema"]
    # The components travel with the schema so that its `$ref`s resolve.
    return jsonschema_rs.validator_for({**schema, "components": document["components"]})


@pytest.mark.parametrize(
    ("method", "url", "path", "role", "body", "status"),
    [
        # An invalid field on an inherited route: 400 with the field list and the text.
        ("get", "/api/v1/legacy/notes/abc", "/api/v1/legacy/notes/{note_id}", None, None, 400),
        ("get", "/api/v1/legacy/notes/9", "/api/v1/legacy/notes/{note_id}", None, None, 404),
        ("post", "/api/v1/notes", "/api/v1/notes", None, {"text": ""}, 422),
        ("post", "/api/v1/notes/then-fail", "/api/v1/notes/then-fail", None, {"text": "x"}, 409),
        ("get", "/api/v1/whoami", "/api/v1/whoami", None, None, 401),
        ("get", "/api/v1/admin-only", "/api/v1/admin-only", "user", None, 403),
    ],
)
async def test_error_bodies_match_the_route_document(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    path: str,
    role: str | None,
    body: Any,
    status: int,
) -> None:
    document = (await client.get("/openapi.json")).json()
    # The token is made here: one made when the tests are collected may expire before this runs.
    headers = token(role) if role else {}
    response = await client.request(method, url, headers=headers, json=body)
    assert response.status_code == status, response.text
    validator = _declared(document, path, method, status)
    errors = [error.message for error in validator.iter_errors(response.json())]
    assert not errors, (response.json(), errors)


async def test_every_route_documents_every_error_with_one_shape(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    routes = {path: ops for path, ops in document["paths"].items() if path.startswith("/api/")}
    assert routes
    for path, operations in routes.items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert set(responses) >= ERROR_STATUSES, (method, path, sorted(responses))
            for status in ERROR_STATUSES:
                schema = responses[status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path)
    assert "HTTPValidationError" not in document["components"]["schemas"]
