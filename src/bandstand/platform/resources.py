"""A resource's admin routes, declared once: get one, create, change and delete.

Most services expose their resources the same way: anyone signed in reads one, an admin adds
one (201 with its Location), changes one and deletes one (204). A change is either a partial
update under PUT with PATCH as its hidden alias (`add_update`), or a PUT that replaces every
field beside a PATCH of some (`add_replace`, `add_patch`). `AdminResource` adds those routes to
a router from what differs between resources: the path, the id parameter, the schemas, the
service, how a row answers and the summaries. A route that does more than that (a public read,
other checks, other side effects) stays hand-written beside them.

The routes' OpenAPI is the hand-written one's: each endpoint gets the function name FastAPI
derives its operation id from (`get_album`, `create_album`, ...) and a signature naming the id
parameter as the path does (`album_id`), in the order the hand-written parameters had.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar

from fastapi import APIRouter, Response, status
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.platform.security import AdminUser, CurrentUser, Principal
from bandstand.platform.transactions import DBSession


class Identified(Protocol):
    """A stored row: its id makes its Location."""

    @property
    def id(self) -> Any: ...


Row = TypeVar("Row", bound=Identified)
Read = TypeVar("Read", bound=BaseModel)

# How a stored row answers: (session, row, caller) -> its response schema.
Present = Callable[[AsyncSession, Row, Principal], Awaitable[Read]]


class ResourceService(Protocol[Row]):
    """What the routes call: a service's get, create, update and delete of one resource. It
    creates from the resource's create schema and updates the fields in `changes`."""

    async def get(self, session: AsyncSession, ident: Any, /) -> Row: ...

    async def create(self, session: AsyncSession, data: Any, actor_id: int | None, /) -> Row: ...

    async def update(
        self, session: AsyncSession, row: Row, changes: dict[str, Any], actor_id: int | None, /
    ) -> Row: ...

    async def delete(self, session: AsyncSession, row: Row, actor_id: int | None, /) -> None: ...


def validated(schema: Callable[[Any], Read]) -> Present[Any, Read]:
    """A presenter that converts the row alone (`AlbumRead.model_validate`, `InstrumentRead.of`)."""

    async def present(_session: AsyncSession, row: Any, _caller: Principal) -> Read:
        return schema(row)

    return present


class AdminResource(Generic[Row, Read]):
    """One resource's routes under `path` (`/albums`), its item at `path/{<noun>_id}`.

    Add its routes where the hand-written ones stood, so the document keeps their order:

        albums = AdminResource("/albums", "album", AlbumId, AlbumRead, album_service)
        albums.add_get(router, "One album")
        albums.add_create(router, AlbumCreate, "Add an album (admin)")
    """

    def __init__(
        self,
        path: str,
        noun: str,
        id_type: Any,
        read: type[Read],
        service: ResourceService[Row],
        *,
        present: Present[Row, Read] | None = None,
        name_prefix: str = "",
    ) -> None:
        """`noun` names the id parameter (`album_id`) and the endpoints, and so their operation
        ids (`get_album`, `create_album`, ...). `id_type` is the id parameter's annotation, e.g.
        `Annotated[int, Path(ge=1, description=...)]`. `present` answers a row (by default the
        read schema validated from it). `name_prefix` tells apart the endpoints of a second
        router over the same resource (`legacy_get_song`)."""
        self.path = path
        self.noun = noun
        self.id_name = f"{noun}_id"
        self.id_type = id_type
        self.read = read
        self.service = service
        self.present = present or validated(read.model_validate)
        self.name_prefix = name_prefix

    @property
    def item_path(self) -> str:
        return f"{self.path}/{{{self.id_name}}}"

    def add_get(self, router: APIRouter, summary: str | None) -> None:
        """Anyone signed in reads one."""

        async def get_one(session: AsyncSession, caller: Principal, **path: Any) -> Read:
            row = await self.service.get(session, path[self.id_name])
            return await self.present(session, row, caller)

        endpoint = self._declare(get_one, "get", ("caller", CurrentUser), ("session", DBSession))
        self._add_item_route(router, endpoint, "GET", summary)

    def add_create(self, router: APIRouter, schema: type[BaseModel], summary: str | None) -> None:
        """An admin adds one: 201, with its Location."""
        location = f"{router.prefix}{self.path}"

        async def create_one(
            data: BaseModel, admin: Principal, session: AsyncSession, response: Response
        ) -> Read:
            row = await self.service.create(session, data, admin.id)
            response.headers["Location"] = f"{location}/{row.id}"
            return await self.present(session, row, admin)

        endpoint = self._declare(
            create_one,
            "create",
            ("data", schema),
            ("admin", AdminUser),
            ("session", DBSession),
            ("response", Response),
            with_id=False,
        )
        router.add_api_route(
            self.path,
            endpoint,
            methods=["POST"],
            response_model=self.read,
            status_code=status.HTTP_201_CREATED,
            summary=summary,
        )

    def add_update(self, router: APIRouter, schema: type[BaseModel], summary: str) -> None:
        """An admin changes the fields the body sets. PUT is documented; PATCH is the same
        partial update, kept undocumented for older clients."""
        endpoint = self._changer("update", schema, lambda data: data.changes())
        # In the order the stacked route decorators registered them (innermost first).
        self._add_item_route(router, endpoint, "PATCH", None, documented=False)
        self._add_item_route(router, endpoint, "PUT", summary)

    def add_replace(self, router: APIRouter, schema: type[BaseModel], summary: str) -> None:
        """PUT: an admin sets every field from a whole body (the create schema)."""
        endpoint = self._changer("replace", schema, lambda data: data.model_dump())
        self._add_item_route(router, endpoint, "PUT", summary)

    def add_patch(self, router: APIRouter, schema: type[BaseModel], summary: str) -> None:
        """PATCH: an admin changes the fields the body sets."""
        endpoint = self._changer("update", schema, lambda data: data.changes())
        self._add_item_route(router, endpoint, "PATCH", summary)

    def add_delete(self, router: APIRouter, summary: str) -> None:
        """An admin deletes one: 204."""

        async def delete_one(admin: Principal, session: AsyncSession, **path: Any) -> Response:
            row = await self.service.get(session, path[self.id_name])
            await self.service.delete(session, row, admin.id)
            return Response(status_code=status.HTTP_204_NO_CONTENT)

        endpoint = self._declare(delete_one, "delete", ("admin", AdminUser), ("session", DBSession))
        router.add_api_route(
            self.item_path,
            endpoint,
            methods=["DELETE"],
            status_code=status.HTTP_204_NO_CONTENT,
            summary=summary,
        )

    def _changer(
        self, verb: str, schema: type[BaseModel], changes: Callable[[Any], dict[str, Any]]
    ) -> Callable[..., Awaitable[Any]]:
        """An endpoint applying `changes(body)` to the row through the service's update."""

        async def change_one(
            data: BaseModel, admin: Principal, session: AsyncSession, **path: Any
        ) -> Read:
            row = await self.service.get(session, path[self.id_name])
            row = await self.service.update(session, row, changes(data), admin.id)
            return await self.present(session, row, admin)

        return self._declare(
            change_one, verb, ("data", schema), ("admin", AdminUser), ("session", DBSession)
        )

    def _add_item_route(
        self,
        router: APIRouter,
        endpoint: Callable[..., Awaitable[Any]],
        method: str,
        summary: str | None,
        *,
        documented: bool = True,
    ) -> None:
        router.add_api_route(
            self.item_path,
            endpoint,
            methods=[method],
            response_model=self.read,
            summary=summary,
            include_in_schema=documented,
        )

    def _declare(
        self,
        endpoint: Callable[..., Awaitable[Any]],
        verb: str,
        *parameters: tuple[str, Any],
        with_id: bool = True,
    ) -> Callable[..., Awaitable[Any]]:
        """Give `endpoint` the name and signature FastAPI reads: the id first (named as in the
        path), then `parameters`, each (name, annotation)."""
        declared: Sequence[tuple[str, Any]] = parameters
        if with_id:
            declared = ((self.id_name, self.id_type), *parameters)
        endpoint.__name__ = f"{self.name_prefix}{verb}_{self.noun}"
        endpoint.__qualname__ = endpoint.__name__
        endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [
                inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation)
                for name, annotation in declared
            ]
        )
        return endpoint
