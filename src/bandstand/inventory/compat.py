"""The streaming platform's inherited movie routes (contract A), thin adapters over the same
service as the canonical API.

Its bodies are kept: a movie is the canonical movie (a superset of `{id, title, description}`),
the list is a bare JSON array, errors carry `error` beside the kernel's `detail`, deletions
answer 200 with a `message`. Its two 400s are kept word for word: `Title and description are
required` when creating without either, `JSON body required` when a change has no JSON object.
Other bad fields answer 400 naming the field. Reads are public; writes need an admin (a
deliberate difference: the original left them open).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.inventory.models import TITLE_MAX, Movie
from bandstand.inventory.repository import MovieFilters
from bandstand.inventory.schemas import (
    LegacyMovieCreate,
    LegacyMovieUpdate,
    Message,
    MovieRead,
)
from bandstand.inventory.service import MovieNotFound, movie_service
from bandstand.platform.errors import BadRequest, NotFound, legacy_errors
from bandstand.platform.json_body import body_schema, json_object, validated
from bandstand.platform.json_response import JSONShape
from bandstand.platform.lean_routes import ServiceRouter
from bandstand.platform.schemas import StorableText
from bandstand.platform.security import AdminUser
from bandstand.platform.transactions import DBSession

router = ServiceRouter(prefix="/api/movies", tags=["movies (streaming platform compatibility)"])
MOVIE_LIST = JSONShape(list[MovieRead])

REQUIRED = "Title and description are required"
JSON_REQUIRED = "JSON body required"


TitleQuery = Annotated[
    str | None,
    StorableText(max_length=TITLE_MAX),
    Query(description="Part of the title, ignoring case and accents"),
]
Limit = Annotated[int, Query(ge=1, le=1000, description="At most this many movies, by id")]


class MovieNotFoundHere(NotFound):
    def __init__(self) -> None:
        super().__init__("Movie not found")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


async def _movie(session: AsyncSession, raw_id: str) -> Movie:
    """The movie of a path id; 404 `Movie not found` for an id that names none, numeric or
    not."""
    if not raw_id.isascii() or not raw_id.isdigit():
        raise MovieNotFoundHere()
    try:
        return await movie_service.get(session, int(raw_id))
    except MovieNotFound as exc:
        raise MovieNotFoundHere() from exc


@router.get("", response_model=list[MovieRead], summary="The movies, by id")
@legacy_errors("error", validation_status=400)
async def legacy_list_movies(
    session: DBSession, title: TitleQuery = None, limit: Limit = 100
) -> Response:
    filters = MovieFilters(title=title, title_phrase=True)
    return MOVIE_LIST.response(await movie_service.first(session, filters, limit))


@router.post(
    "",
    response_model=MovieRead,
    status_code=status.HTTP_201_CREATED,
    summary="Add a movie (admin)",
    openapi_extra=body_schema(LegacyMovieCreate),
)
@legacy_errors("error", validation_status=400)
async def legacy_create_movie(
    request: Request, admin: AdminUser, session: DBSession, response: Response
) -> MovieRead:
    document = await json_object(request, JSON_REQUIRED) or {}
    if _missing(document.get("title")) or _missing(document.get("description")):
        raise BadRequest(REQUIRED)
    data = validated(LegacyMovieCreate, document)
    movie = await movie_service.create(session, data, admin.id)
    response.headers["Location"] = f"/api/movies/{movie.id}"
    return await movie_service.view(session, movie)


@router.delete("", response_model=Message, summary="Delete every movie (admin)")
@legacy_errors("error", validation_status=400)
async def legacy_delete_movies(admin: AdminUser, session: DBSession) -> Message:
    await movie_service.clear(session, admin.id)
    return Message(message="All movies deleted")


@router.get("/{movie_id}", response_model=MovieRead, summary="One movie")
@legacy_errors("error", validation_status=400)
async def legacy_get_movie(movie_id: str, session: DBSession) -> MovieRead:
    return await movie_service.view(session, await _movie(session, movie_id))


@router.put(
    "/{movie_id}",
    response_model=MovieRead,
    summary="Change a movie: only the fields sent (admin)",
    openapi_extra=body_schema(LegacyMovieUpdate),
)
@legacy_errors("error", validation_status=400)
async def legacy_update_movie(
    movie_id: str, request: Request, admin: AdminUser, session: DBSession
) -> MovieRead:
    movie = await _movie(session, movie_id)
    document = await json_object(request, JSON_REQUIRED)
    if not document:
        raise BadRequest(JSON_REQUIRED)
    data = validated(LegacyMovieUpdate, document)
    movie = await movie_service.update(session, movie, data.changes(), admin.id)
    return await movie_service.view(session, movie)


@router.delete("/{movie_id}", response_model=Message, summary="Delete a movie (admin)")
@legacy_errors("error", validation_status=400)
async def legacy_delete_movie(movie_id: str, admin: AdminUser, session: DBSession) -> Message:
    movie = await _movie(session, movie_id)
    deleted_id = movie.id
    await movie_service.delete(session, movie, admin.id)
    return Message(message=f"Movie {deleted_id} deleted")
