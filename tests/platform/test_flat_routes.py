"""`add_routes`: a router's routes become the app's own, answering, documenting and honouring
overrides as FastAPI's inclusion of the router does."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from bandstand.platform.flat_routes import add_routes
from bandstand.platform.lean_routes import LeanRoute, ServiceRouter
from tests.support.client import api_client

TEAPOT = {418: {"description": "a teapot"}}


async def page_size(size: Annotated[int, Query(ge=1, le=50)] = 10) -> int:
    return size


async def tagged() -> str:
    return "router"


class Listing(BaseModel):
    size: int
    tag: str


def _router() -> ServiceRouter:
    router = ServiceRouter(prefix="/api", tags=["things"], dependencies=[Depends(tagged)])

    @router.get("/things", responses={418: {"description": "its own teapot"}})
    async def things(
        size: Annotated[int, Depends(page_size)], tag: Annotated[str, Depends(tagged)]
    ) -> Listing:
        return Listing(size=size, tag=tag)

    @router.get("/things/{thing_id}", status_code=203)
    async def thing(thing_id: int) -> dict[str, int]:
        return {"id": thing_id}

    async def plain(request: Request) -> PlainTextResponse:
        return PlainTextResponse("plain")

    router.routes.append(Route("/plain", plain))
    return router


def _apps() -> tuple[FastAPI, FastAPI]:
    flat, included = FastAPI(), FastAPI()
    add_routes(flat, _router(), responses=TEAPOT)
    included.include_router(_router(), responses=TEAPOT)
    return flat, included


def test_the_routes_are_the_app_s_own() -> None:
    flat, _ = _apps()
    paths = [getattr(route, "path", None) for route in flat.router.routes]
    assert {"/api/things", "/api/things/{thing_id}", "/plain"} <= set(paths)
    api = [route for route in flat.router.routes if isinstance(route, APIRoute)]
    assert {route.path for route in api} >= {"/api/things", "/api/things/{thing_id}"}
    assert all(isinstance(route, LeanRoute) for route in api if route.path.startswith("/api"))


async def test_answers_are_the_inclusion_s() -> None:
    for app in _apps():
        async with api_client(app) as client:
            listed = await client.get("/api/things?size=7")
            one = await client.get("/api/things/5")
            invalid = await client.get("/api/things?size=99")
            plain = await client.get("/plain")
        assert listed.json() == {"size": 7, "tag": "router"}
        assert (one.status_code, one.json()) == (203, {"id": 5})
        assert invalid.status_code == 422
        assert invalid.json()["detail"][0]["loc"] == ["query", "size"]
        assert plain.text == "plain"


async def test_the_app_s_dependency_overrides_are_honoured() -> None:
    flat, _ = _apps()

    async def fixed() -> int:
        return 42

    flat.dependency_overrides[page_size] = fixed
    async with api_client(flat) as client:
        answer = await client.get("/api/things")
    assert answer.json()["size"] == 42


async def test_the_openapi_document_is_the_inclusion_s() -> None:
    documents: list[dict[str, Any]] = []
    for app in _apps():
        async with api_client(app) as client:
            documents.append((await client.get("/openapi.json")).json())
    flat, included = documents
    assert flat["paths"] == included["paths"]
    responses = flat["paths"]["/api/things"]["get"]["responses"]
    assert responses["418"]["description"] == "its own teapot"  # the route's own first
    assert flat["paths"]["/api/things/{thing_id}"]["get"]["responses"]["418"] == {
        "description": "a teapot"
    }


async def test_a_router_that_includes_routers_is_included() -> None:
    outer = ServiceRouter(prefix="/outer")
    outer.include_router(_router())
    app = FastAPI()
    add_routes(app, outer, responses=TEAPOT)
    async with api_client(app) as client:
        answer = await client.get("/outer/api/things?size=3")
    assert answer.json() == {"size": 3, "tag": "router"}


def test_every_api_service_matches_its_routes_once(tmp_path: Path) -> None:
    from bandstand import registry
    from bandstand.platform.runtime import Runtime
    from bandstand.platform.settings import Settings

    runtime = Runtime(Settings(_env_file=None, data_dir=tmp_path))  # type: ignore[call-arg]
    for entry in registry.SERVICES:
        if entry.name == "web":  # its pages' routers include routers of their own
            continue
        app = entry.create_app(runtime)
        nested = [route for route in app.router.routes if hasattr(route, "original_router")]
        assert nested == [], entry.name
