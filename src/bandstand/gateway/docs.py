"""One OpenAPI document for every service behind the gateway."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from bandstand.gateway.routes import RouteTable
from bandstand.gateway.upstream import Upstream

logger = logging.getLogger("bandstand.gateway.docs")
REF_PREFIX = "#/components/schemas/"


def _rename_refs(document: Any, renames: Mapping[str, str]) -> Any:
    if not renames:
        return document
    text = json.dumps(document)
    for old, new in renames.items():
        text = text.replace(f'"{REF_PREFIX}{old}"', f'"{REF_PREFIX}{new}"')
    return json.loads(text)


def _clashing_names(
    service: str, own: Mapping[str, Any], merged: Mapping[str, Any]
) -> dict[str, str]:
    """Names of `own` schemas that differ from a merged one of the same name, with new names.

    Renaming one schema changes the references in others, which may then clash in turn (two
    services' `HTTPValidationError` differ once their `ValidationError`s are told apart), so
    the renames grow until nothing more clashes."""
    renames: dict[str, str] = {}
    while True:
        renamed = _rename_refs(own, renames)
        clashing = {
            name: f"{service}__{name}"
            for name, schema in renamed.items()
            if name not in renames and name in merged and merged[name] != schema
        }
        if not clashing:
            return renames
        renames.update(clashing)


def merge_documents(
    title: str, version: str, documents: Mapping[str, dict[str, Any]], routes: RouteTable
) -> dict[str, Any]:
    """Paths each service answers at the gateway, with clashing schema names made unique."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    security_schemes: dict[str, Any] = {}
    tags: list[dict[str, Any]] = []
    for service, document in sorted(documents.items()):
        components = document.get("components", {})
        renames = _clashing_names(service, components.get("schemas", {}), schemas)
        own = _rename_refs(components.get("schemas", {}), renames)
        for name, schema in own.items():
            schemas[renames.get(name, name)] = schema
        security_schemes.update(components.get("securitySchemes", {}))
        for path, operations in document.get("paths", {}).items():
            if routes.match(path.rstrip("/") or "/") == service:
                paths[path] = _rename_refs(operations, renames)
        known_tags = {tag.get("name") for tag in tags}
        tags.extend(tag for tag in document.get("tags", []) if tag.get("name") not in known_tags)
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": dict(sorted(schemas.items()))},
    }
    if security_schemes:
        merged["components"]["securitySchemes"] = security_schemes
    if tags:
        merged["tags"] = tags
    return merged


async def collect_documents(upstreams: Mapping[str, Upstream]) -> dict[str, dict[str, Any]]:
    documents: dict[str, dict[str, Any]] = {}
    for name, upstream in upstreams.items():
        try:
            documents[name] = await upstream.openapi()
        except Exception as exc:  # one service down must not hide the others' docs
            logger.warning("no OpenAPI document from %s: %s", name, exc)
    return documents
