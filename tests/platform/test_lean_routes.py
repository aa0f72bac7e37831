"""`LeanRoute`: a route's dependencies solved by a plan made once answer what FastAPI's own
solving answers, and whatever the plan does not know is left to FastAPI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from bandstand.platform import lean_routes
from bandstand.platform.lean_routes import LeanRoute, ServiceRouter, plan_of
from tests.support.client import api_client

calls: list[str] = []
bearer = HTTPBearer(auto_error=False)


async def paging(
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(alias="page_size", ge=1, le=100)] = 20,
) -> tuple[int, int]:
    calls.append("paging")
    return page, size


async def viewer(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    paged: Annotated[tuple[int, int], Depends(paging)],
) -> str | None:
    calls.append("viewer")
    return credentials.credentials if credentials else None


class Item(BaseModel):
    id: int


def _router() -> ServiceRouter:
    router = ServiceRouter(prefix="/items")

    @router.get("")
    async def items(
        request: Request,
        paged: Annotated[tuple[int, int], Depends(paging)],
        who: Annotated[str | None, Depends(viewer)],
        search: Annotated[str | None, Query(max_length=5)] = None,
        flag: bool = False,
    ) -> Response:
        calls.append("items")
        return JSONResponse(
            {"page": paged, "who": who, "search": search, "flag": flag, "path": request.url.path}
        )

    @router.get("/{item_id}")
    async def item(item_id: int) -> Response:
        return JSONResponse({"id": item_id})

    @router.get("/model/{item_id}", response_model=Item)
    async def item_model(item_id: int) -> dict[str, Any]:
        return {"id": item_id, "secret": "not in the model"}

    @router.get("/extra/accepted", status_code=202)
    async def accepted() -> dict[str, bool]:
        return {"accepted": True}

    @router.get("/extra/nothing", status_code=204)
    async def nothing() -> None:
        return None

    @router.get("/extra/sync")
    def synchronous() -> dict[str, bool]:
        return {"sync": True}

    @router.get("/headed/one")
    async def headed(x_thing: Annotated[str, Header()]) -> Response:
        return JSONResponse({"thing": x_thing})

    @router.get("/many/ids")
    async def many(ids: Annotated[list[int], Query()]) -> Response:
        return JSONResponse({"ids": ids})

    return router


def _app() -> FastAPI:
    app = FastAPI()
    app.include_router(_router(), responses={418: {"description": "a teapot"}})
    return app


@pytest.fixture(autouse=True)
def _fresh_calls() -> Iterator[None]:
    calls.clear()
    yield
    calls.clear()


def _route(path: str) -> LeanRoute:
    for route in _router().routes:
        if isinstance(route, LeanRoute) and route.path == path:
            return route
    raise AssertionError(path)


def test_a_route_of_plain_dependencies_and_parameters_is_planned() -> None:
    assert plan_of(_route("/items").dependant) is not None
    assert plan_of(_route("/items/{item_id}").dependant) is not None
    # An endpoint's value is written by its response model, as FastAPI writes it.
    assert plan_of(_route("/items/model/{item_id}").dependant) is not None


def test_what_a_plan_does_not_know_is_left_to_fastapi() -> None:
    # A header parameter; a list; a function run in a thread.
    for path in ("/items/headed/one", "/items/many/ids", "/items/extra/sync"):
        assert plan_of(_route(path).dependant) is None, path


REQUESTS = [
    ("/items", {}),
    ("/items?page=3&page_size=7&search=abc&flag=true", {}),
    ("/items?page=2&page=4", {}),  # the last value, as FastAPI takes it
    ("/items?search=toolong", {}),
    ("/items?page=0", {}),
    ("/items?page=x&page_size=500", {}),
    ("/items?flag=maybe", {}),
    ("/items", {"Authorization": "Bearer abc"}),
    ("/items", {"Authorization": "Basic abc"}),
    ("/items/12", {}),
    ("/items/twelve", {}),
    ("/items/model/5", {}),
    ("/items/extra/accepted", {}),
    ("/items/extra/nothing", {}),
    ("/items/extra/sync", {}),
    ("/items/headed/one", {"x-thing": "yes"}),
    ("/items/headed/one", {}),
    ("/items/many/ids?ids=1&ids=2", {}),
    ("/items/many/ids", {}),
]


async def _answers(app: FastAPI) -> list[tuple[int, Any]]:
    answers = []
    async with api_client(app) as client:
        for target, headers in REQUESTS:
            answer = await client.get(target, headers=headers)
            answers.append((answer.status_code, answer.json() if answer.content else None))
    return answers


async def test_planned_and_fastapi_answers_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    planned = await _answers(_app())
    assert planned[0] == (
        200,
        {"page": [1, 20], "who": None, "search": None, "flag": False, "path": "/items"},
    )
    assert planned[2][1]["page"] == [4, 20]
    assert planned[3][0] == 422
    assert planned[3][1]["detail"][0]["loc"] == ["query", "search"]
    assert planned[11] == (200, {"id": 5})
    assert planned[12] == (202, {"accepted": True})
    assert planned[13] == (204, None)

    async def fastapi_only(self: Any, request: Request) -> Any:
        raise lean_routes._Invalid

    monkeypatch.setattr(lean_routes._Plan, "run", fastapi_only)
    assert await _answers(_app()) == planned


async def test_a_request_runs_each_dependency_once_without_fastapi_solving(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def no_solving(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("FastAPI solved the dependencies")

    monkeypatch.setattr("fastapi.routing.solve_dependencies", no_solving)
    async with api_client(_app()) as client:
        answer = await client.get("/items?page=2", headers={"Authorization": "Bearer t"})
    assert answer.status_code == 200
    assert answer.json()["who"] == "t"
    assert calls == ["paging", "viewer", "items"]  # `paging`, asked for twice, ran once


async def test_an_invalid_request_is_answered_by_fastapi_alone() -> None:
    async with api_client(_app()) as client:
        answer = await client.get("/items?search=toolong")
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["query", "search"]
    # FastAPI solved the dependencies whose parameters were valid, once each; the plan, which
    # checks every parameter before calling anything, called none of them.
    assert calls == ["paging", "viewer"]


async def test_dependency_overrides_are_honoured() -> None:
    app = _app()

    async def fixed_paging() -> tuple[int, int]:
        return 9, 9

    app.dependency_overrides[paging] = fixed_paging
    async with api_client(app) as client:
        answer = await client.get("/items?page=2")
    assert answer.json()["page"] == [9, 9]


async def test_the_openapi_document_is_fastapi_s() -> None:
    app = _app()
    async with api_client(app) as client:
        document = (await client.get("/openapi.json")).json()
    parameters = {p["name"] for p in document["paths"]["/items"]["get"]["parameters"]}
    assert parameters == {"page", "page_size", "search", "flag"}
    assert "418" in document["paths"]["/items"]["get"]["responses"]


def test_every_route_a_service_declares_is_lean(tmp_path: Path) -> None:
    from bandstand import registry
    from bandstand.platform.runtime import Runtime
    from bandstand.platform.settings import Settings

    runtime = Runtime(Settings(_env_file=None, data_dir=tmp_path))  # type: ignore[call-arg]
    for entry in registry.SERVICES:
        app = entry.create_app(runtime)
        for route in _api_routes(app.router):
            assert isinstance(route, LeanRoute), (entry.name, route.path)


def _api_routes(router: Any) -> Iterator[Any]:
    from fastapi.routing import APIRoute

    for route in router.routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _api_routes(inner)
