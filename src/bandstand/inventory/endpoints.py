"""Inventory's canonical API under /api/v1: the movie catalogue. Reads are public (as the
streaming platform's were); writes need an admin."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.inventory.models import GENRE_MAX, INT_MAX, TITLE_MAX, Movie
from bandstand.inventory.repository import MovieFilters
from bandstand.inventory.schemas import (
    MovieCreate,
    MovieOrdering,
    MovieRead,
    MovieUpdate,
)
from bandstand.inventory.service import movie_service
from bandstand.platform.lean_routes import ServiceRouter
from bandstand.platform.pagination import Page, Pagination, page_shape
from bandstand.platform.resources import AdminResource
from bandstand.platform.schemas import StorableText
from bandstand.platform.security import Principal
from bandstand.platform.transactions import DBSession

router = ServiceRouter(prefix="/api/v1", tags=["movies"])
MOVIE_PAGE = page_shape(MovieRead)

# Bounded so that no id reaches the database as a number its INTEGER column cannot hold.
MovieId = Annotated[int, Path(ge=1, le=INT_MAX, description="The movie's id")]
# Text parameters refuse NUL, which PostgreSQL cannot compare: a 422, not a database error.
TitleQuery = Annotated[
    str | None,
    StorableText(max_length=TITLE_MAX),
    Query(
        description="Words that must all occur in the title (whole words or parts of words), "
        "ignoring case and accents",
    ),
]
GenreQuery = Annotated[
    str | None,
    StorableText(max_length=GENRE_MAX),
    Query(description="Movies of this genre, any case"),
]
YearQuery = Annotated[int | None, Query(ge=1, le=9999, description="Released this year")]
OrderingQuery = Annotated[
    MovieOrdering, Query(description="Sort key, `-` for descending; ties by id")
]


@router.get("/movies", response_model=Page[MovieRead], summary="Movies, filtered and ordered")
async def list_movies(
    session: DBSession,
    request: Request,
    pagination: Pagination,
    title: TitleQuery = None,
    genre: GenreQuery = None,
    year: YearQuery = None,
    ordering: OrderingQuery = "id",
) -> Response:
    filters = MovieFilters(title=title, genre=genre, year=year, ordering=ordering)
    return MOVIE_PAGE.response(await movie_service.page(session, filters, pagination, request))


async def _view(session: AsyncSession, movie: Movie, _caller: Principal) -> MovieRead:
    return await movie_service.view(session, movie)


movies = AdminResource("/movies", "movie", MovieId, MovieRead, movie_service, present=_view)


# Public, unlike `AdminResource.add_get` (which needs a signed-in caller).
@router.get("/movies/{movie_id}", response_model=MovieRead, summary="One movie")
async def get_movie(movie_id: MovieId, session: DBSession) -> MovieRead:
    return await movie_service.view(session, await movie_service.get(session, movie_id))


movies.add_create(router, MovieCreate, "Add a movie (admin)")
movies.add_replace(router, MovieCreate, "Replace a movie (admin)")
movies.add_patch(router, MovieUpdate, "Change a movie (admin)")
movies.add_delete(router, "Delete a movie (admin)")
