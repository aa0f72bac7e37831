"""Merging the services' OpenAPI documents into one."""

from __future__ import annotations

import json
import re
from typing import Any

from bandstand.gateway.docs import merge_documents
from bandstand.gateway.routes import RouteTable

REF = "#/components/schemas/"


def _operation(request: str | None, response: str) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "responses": {
            "200": {"content": {"application/json": {"schema": {"$ref": REF + response}}}},
            "422": {
                "content": {"application/json": {"schema": {"$ref": REF + "HTTPValidationError"}}}
            },
        }
    }
    if request:
        operation["requestBody"] = {
            "content": {"application/json": {"schema": {"$ref": REF + request}}}
        }
    return operation


def _validation(detail_field: str) -> dict[str, Any]:
    return {
        "HTTPValidationError": {
            "type": "object",
            "properties": {"detail": {"type": "array", "items": {"$ref": REF + "ValidationError"}}},
        },
        "ValidationError": {
            "type": "object",
            "properties": {detail_field: {"type": "string"}},
        },
    }


def _document(paths: dict[str, Any], schemas: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "x", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas, **extra.pop("components", {})},
        **extra,
    }


ROUTES = RouteTable([("/api/v1/alpha", "alpha"), ("/api/v1/beta", "beta")])


def _refs(node: Any) -> set[str]:
    return set(re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(node)))


def test_paths_of_every_service_and_only_those_routed_to_it() -> None:
    alpha = _document(
        {
            "/api/v1/alpha/items": {"post": _operation("Item", "Item")},
            "/health": {"get": _operation(None, "Health")},
        },
        {"Item": {"properties": {"name": {"type": "string"}}}, "Health": {}, **_validation("msg")},
    )
    beta = _document(
        {"/api/v1/beta/items/": {"get": _operation(None, "Item")}},
        {"Item": {"properties": {"name": {"type": "string"}}}, **_validation("msg")},
    )
    merged = merge_documents("Bandstand", "9.9", {"alpha": alpha, "beta": beta}, ROUTES)
    assert merged["info"] == {"title": "Bandstand", "version": "9.9"}
    # /health is the gateway's own: no service's /health is reachable through it.
    assert list(merged["paths"]) == ["/api/v1/alpha/items", "/api/v1/beta/items/"]
    # Identical schemas are shared, not duplicated.
    assert set(merged["components"]["schemas"]) == {
        "Item",
        "Health",
        "HTTPValidationError",
        "ValidationError",
    }


def test_clashing_schema_names_are_made_unique_and_references_follow() -> None:
    alpha = _document(
        {"/api/v1/alpha/items": {"post": _operation("Item", "Item")}},
        {"Item": {"properties": {"name": {"type": "string"}}}, **_validation("msg")},
    )
    beta = _document(
        {"/api/v1/beta/items": {"post": _operation("Item", "Item")}},
        {
            "Item": {"properties": {"price": {"type": "integer"}}},
            # Same text as alpha's, but it refers to beta's different ValidationError.
            **_validation("message"),
        },
    )
    merged = merge_documents("Bandstand", "1", {"alpha": alpha, "beta": beta}, ROUTES)
    schemas = merged["components"]["schemas"]
    assert schemas["Item"] == {"properties": {"name": {"type": "string"}}}
    assert schemas["beta__Item"] == {"properties": {"price": {"type": "integer"}}}
    assert _refs(merged["paths"]["/api/v1/alpha/items"]) == {"Item", "HTTPValidationError"}
    assert _refs(merged["paths"]["/api/v1/beta/items"]) == {
        "beta__Item",
        "beta__HTTPValidationError",
    }
    # Alpha's error body still describes alpha's errors.
    assert _refs(schemas["HTTPValidationError"]) == {"ValidationError"}
    assert _refs(schemas["beta__HTTPValidationError"]) == {"beta__ValidationError"}
    assert "message" in schemas["beta__ValidationError"]["properties"]
    assert "msg" in schemas["ValidationError"]["properties"]


def test_every_reference_resolves() -> None:
    documents = {
        name: _document(
            {f"/api/v1/{name}/things": {"post": _operation("Thing", "Thing")}},
            {"Thing": {"title": name}, **_validation(field)},
        )
        for name, field in (("alpha", "a"), ("beta", "b"))
    }
    merged = merge_documents("Bandstand", "1", documents, ROUTES)
    assert _refs(merged) <= set(merged["components"]["schemas"])


def test_security_schemes_and_tags_are_merged_once() -> None:
    bearer = {"HTTPBearer": {"type": "http", "scheme": "bearer"}}
    alpha = _document(
        {}, {}, components={"securitySchemes": bearer}, tags=[{"name": "shared"}, {"name": "a"}]
    )
    beta = _document({}, {}, components={"securitySchemes": bearer}, tags=[{"name": "shared"}])
    merged = merge_documents("Bandstand", "1", {"alpha": alpha, "beta": beta}, ROUTES)
    assert merged["components"]["securitySchemes"] == bearer
    assert [tag["name"] for tag in merged["tags"]] == ["shared", "a"]
