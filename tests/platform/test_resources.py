"""AdminResource: the routes it adds answer and document themselves as the hand-written ones
did (names, parameters, statuses, Location, the hidden PATCH alias, the admin check)."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Path
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.platform.errors import NotFound, install_error_handlers
from bandstand.platform.resources import AdminResource
from bandstand.platform.security import Principal, current_principal
from bandstand.platform.transactions import get_session

ThingId = Annotated[int, Path(ge=1, description="The thing's id")]


class Thing(BaseModel):
    id: int
    name: str


class ThingCreate(BaseModel):
    name: str


class ThingUpdate(BaseModel):
    name: str | None = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class Things:
    """An in-memory service with the shape AdminResource calls; it records the actors."""

    def __init__(self) -> None:
        self.rows: dict[int, Thing] = {}
        self.actors: list[int | None] = []

    async def get(self, _session: AsyncSession, thing_id: int) -> Thing:
        if thing_id not in self.rows:
            raise NotFound("Thing not found")
        return self.rows[thing_id]

    async def create(self, _session: AsyncSession, data: ThingCreate, actor: int | None) -> Thing:
        thing = Thing(id=len(self.rows) + 1, name=data.name)
        self.rows[thing.id] = thing
        self.actors.append(actor)
        return thing

    async def update(
        self, _session: AsyncSession, thing: Thing, changes: dict[str, Any], actor: int | None
    ) -> Thing:
        self.rows[thing.id] = thing.model_copy(update=changes)
        self.actors.append(actor)
        return self.rows[thing.id]

    async def delete(self, _session: AsyncSession, thing: Thing, actor: int | None) -> None:
        del self.rows[thing.id]
        self.actors.append(actor)


def caller(role: str) -> Principal:
    return Principal(id=7, role=role, token_id="t", session_id=None, expires_at=0)


@pytest.fixture
def things() -> Things:
    return Things()


@pytest.fixture
def app(things: Things) -> FastAPI:
    router = APIRouter(prefix="/api/v1")
    resource = AdminResource("/things", "thing", ThingId, Thing, things)
    resource.add_get(router, "One thing")
    resource.add_create(router, ThingCreate, "Add a thing (admin)")
    resource.add_update(router, ThingUpdate, "Change a thing (admin)")
    resource.add_delete(router, "Delete a thing (admin)")
    app = FastAPI()
    app.include_router(router)
    install_error_handlers(app)
    app.dependency_overrides[get_session] = lambda: None
    app.dependency_overrides[current_principal] = lambda: caller("admin")
    return app


async def request(app: FastAPI, method: str, path: str, **kwargs: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.request(method, path, **kwargs)


def test_documents_the_routes_as_hand_written_ones(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    assert list(paths) == ["/api/v1/things/{thing_id}", "/api/v1/things"]
    item = paths["/api/v1/things/{thing_id}"]
    # PATCH is an undocumented alias of PUT.
    assert list(item) == ["get", "put", "delete"]
    assert item["get"]["operationId"] == "get_thing_api_v1_things__thing_id__get"
    assert item["get"]["summary"] == "One thing"
    assert item["put"]["operationId"] == "update_thing_api_v1_things__thing_id__put"
    assert item["delete"]["operationId"] == "delete_thing_api_v1_things__thing_id__delete"
    (parameter,) = item["get"]["parameters"]
    assert parameter["name"] == "thing_id"
    assert parameter["in"] == "path"
    assert parameter["description"] == "The thing's id"
    assert "204" in item["delete"]["responses"]
    create = paths["/api/v1/things"]["post"]
    assert create["operationId"] == "create_thing_api_v1_things_post"
    assert "201" in create["responses"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ThingCreate"
    }


async def test_create_update_patch_delete(app: FastAPI, things: Things) -> None:
    created = await request(app, "POST", "/api/v1/things", json={"name": "drum"})
    assert created.status_code == 201
    assert created.headers["location"] == "/api/v1/things/1"
    assert created.json() == {"id": 1, "name": "drum"}

    put = await request(app, "PUT", "/api/v1/things/1", json={"name": "snare"})
    assert put.json() == {"id": 1, "name": "snare"}
    patched = await request(app, "PATCH", "/api/v1/things/1", json={"name": "kick"})
    assert patched.json() == {"id": 1, "name": "kick"}
    assert (await request(app, "GET", "/api/v1/things/1")).json() == {"id": 1, "name": "kick"}

    deleted = await request(app, "DELETE", "/api/v1/things/1")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert (await request(app, "GET", "/api/v1/things/1")).status_code == 404
    assert things.actors == [7, 7, 7, 7]


async def test_writes_need_an_admin_reads_a_user(app: FastAPI, things: Things) -> None:
    things.rows[1] = Thing(id=1, name="drum")
    app.dependency_overrides[current_principal] = lambda: caller("user")
    assert (await request(app, "GET", "/api/v1/things/1")).status_code == 200
    for method, path in (("POST", "/api/v1/things"), ("PUT", "/api/v1/things/1")):
        assert (await request(app, method, path, json={"name": "x"})).status_code == 403
    assert (await request(app, "DELETE", "/api/v1/things/1")).status_code == 403
    assert things.actors == []


async def test_refuses_an_invalid_id(app: FastAPI) -> None:
    assert (await request(app, "GET", "/api/v1/things/0")).status_code == 422


async def test_replace_and_patch_are_documented_routes(things: Things) -> None:
    router = APIRouter(prefix="/api/v1")
    resource = AdminResource("/things", "thing", ThingId, Thing, things)
    resource.add_replace(router, ThingCreate, "Replace a thing (admin)")
    resource.add_patch(router, ThingUpdate, "Change a thing (admin)")
    app = FastAPI()
    app.include_router(router)
    app.dependency_overrides[get_session] = lambda: None
    app.dependency_overrides[current_principal] = lambda: caller("admin")
    item = app.openapi()["paths"]["/api/v1/things/{thing_id}"]
    assert item["put"]["operationId"] == "replace_thing_api_v1_things__thing_id__put"
    assert item["patch"]["operationId"] == "update_thing_api_v1_things__thing_id__patch"
    assert item["patch"]["summary"] == "Change a thing (admin)"

    things.rows[1] = Thing(id=1, name="drum")
    # PUT needs the whole body (the create schema); PATCH only what changes.
    assert (await request(app, "PUT", "/api/v1/things/1", json={})).status_code == 422
    replaced = await request(app, "PUT", "/api/v1/things/1", json={"name": "snare"})
    assert replaced.json() == {"id": 1, "name": "snare"}
    assert (await request(app, "PATCH", "/api/v1/things/1", json={})).json() == replaced.json()
