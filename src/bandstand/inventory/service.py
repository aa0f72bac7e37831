"""Inventory's use cases: the movie catalogue.

Every method takes the request's session and never commits; events go to the outbox in the same
transaction.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.inventory import events
from bandstand.inventory.models import MOVIE_TEXT, Movie
from bandstand.inventory.repository import GenreRepository, MovieFilters, MovieRepository
from bandstand.inventory.schemas import MovieCreate, MovieRead
from bandstand.platform.errors import NotFound
from bandstand.platform.json_rows import JsonRows
from bandstand.platform.pagination import PageParams, paginate
from bandstand.platform.rows import changed_fields

MOVIE_ROWS = JsonRows.of(MovieRead, kept=MOVIE_TEXT)


class MovieNotFound(NotFound):
    def __init__(self, movie_id: int) -> None:
        super().__init__(f"Movie with id {movie_id} not found")
        self.movie_id = movie_id


class MovieService:
    def __init__(self) -> None:
        self.movies = MovieRepository()
        self.genres = GenreRepository()

    def listing(self, filters: MovieFilters) -> Select[Any]:
        return self.movies.listing(filters)

    async def page(
        self,
        session: AsyncSession,
        filters: MovieFilters,
        pagination: PageParams,
        request: Request,
    ) -> dict[str, Any]:
        """One page of the list: two statements whatever its size (count, and the page with
        its genres). Its results are `MovieRead`'s JSON, written by the database
        (`platform.json_rows`)."""
        statement = self.movies.listing(filters, kept_text=True)
        return await paginate(
            session, statement, pagination, request, scalars=False, as_json=MOVIE_ROWS
        )

    async def first(
        self, session: AsyncSession, filters: MovieFilters, limit: int
    ) -> list[dict[str, Any]]:
        """The first `limit` movies, as `page`'s results are: one statement."""
        return [row._asdict() for row in await self.movies.first(session, filters, limit)]

    async def get(self, session: AsyncSession, movie_id: int) -> Movie:
        movie = await self.movies.get(session, movie_id)
        if movie is None:
            raise MovieNotFound(movie_id)
        return movie

    async def views(self, session: AsyncSession, movies: list[Movie]) -> list[MovieRead]:
        genres = await self.genres.of_movies(session, [movie.id for movie in movies])
        return [MovieRead.build(movie, genres[movie.id]) for movie in movies]

    async def view(self, session: AsyncSession, movie: Movie) -> MovieRead:
        (read,) = await self.views(session, [movie])
        return read

    async def create(self, session: AsyncSession, data: MovieCreate, actor_id: int | None) -> Movie:
        movie = Movie(**data.model_dump(exclude={"genres"}))
        await self.movies.add(session, movie)
        await self.genres.replace(session, movie.id, data.genres)
        return await events.MOVIES.created(session, movie, actor_id)

    async def update(
        self, session: AsyncSession, movie: Movie, changes: dict[str, Any], actor_id: int | None
    ) -> Movie:
        """Set the fields that differ and publish what changed; nothing changes, nothing is
        sent."""
        columns = {key: value for key, value in changes.items() if key != "genres"}
        changed = changed_fields(movie, columns)
        if "genres" in changes:
            current = (await self.genres.of_movies(session, [movie.id]))[movie.id]
            if current != changes["genres"]:
                await self.genres.replace(session, movie.id, changes["genres"])
                changed.append("genres")
        if not changed:
            return movie
        columns_changed = [key for key in changed if key in columns]
        return await events.MOVIES.apply(
            session, movie, columns, changed, actor_id, columns=columns_changed
        )

    async def delete(self, session: AsyncSession, movie: Movie, actor_id: int | None) -> None:
        await self.movies.delete(session, movie)
        await events.MOVIES.deleted(session, movie, actor_id)

    async def clear(self, session: AsyncSession, actor_id: int | None) -> int:
        """Delete every movie; the number deleted. One event, however many there were."""
        deleted = await self.movies.delete_all(session)
        await events.movies_cleared(session, deleted, actor_id)
        return deleted


movie_service = MovieService()
