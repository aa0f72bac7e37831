"""A router's routes added to an app's own router, instead of including the router.

FastAPI keeps an included router as one entry of the app's routes. A request then walks the
app's routes to that entry, which walks the router's routes once to say it matches and again to
choose the route, both times through FastAPI's per-inclusion route contexts: 20-25 µs of a
request's CPU on a signed-in song page (0.43 ms in all on PostgreSQL). `add_routes` makes each
route of the router a route of the app, built by `add_api_route` as FastAPI built an included
route for years: the same path, endpoint, response model, dependencies and route class, the
inclusion's responses under the route's own, and the app as the provider of dependency
overrides. The OpenAPI document and every answer are the same; a request is matched once.

A router that itself includes routers is included as FastAPI does, since its inclusions carry
contexts of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, APIRouter
from starlette.routing import Mount, Route


def add_routes(
    app: FastAPI, router: APIRouter, *, responses: Mapping[int | str, Any] | None = None
) -> None:
    """Every route of `router` as a route of `app`, `responses` documented on each API route
    under the route's own (FastAPI's `include_router(router, responses=...)`, matched once)."""
    if not all(isinstance(route, Route | Mount) for route in router.routes):
        app.include_router(router, responses=dict(responses or {}))
        return
    for route in router.routes:
        if isinstance(route, APIRoute):
            _add_api_route(app, route, responses or {})
        else:
            app.router.routes.append(route)


def _add_api_route(app: FastAPI, route: APIRoute, responses: Mapping[int | str, Any]) -> None:
    app.router.add_api_route(
        route.path,
        route.endpoint,
        response_model=route.response_model,
        status_code=route.status_code,
        tags=list(route.tags),
        dependencies=list(route.dependencies),
        summary=route.summary,
        description=route.description,
        response_description=route.response_description,
        responses={**responses, **route.responses},
        deprecated=route.deprecated,
        methods=sorted(route.methods or ()),
        operation_id=route.operation_id,
        response_model_include=route.response_model_include,
        response_model_exclude=route.response_model_exclude,
        response_model_by_alias=route.response_model_by_alias,
        response_model_exclude_unset=route.response_model_exclude_unset,
        response_model_exclude_defaults=route.response_model_exclude_defaults,
        response_model_exclude_none=route.response_model_exclude_none,
        include_in_schema=route.include_in_schema,
        response_class=route.response_class,
        name=route.name,
        route_class_override=type(route),
        callbacks=route.callbacks,
        openapi_extra=route.openapi_extra,
        generate_unique_id_function=route.generate_unique_id_function,
        strict_content_type=route.strict_content_type,
        max_body_size=route.max_body_size,
        form_limits=route.form_limits,
    )
