"""Every query the inventory service runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Select,
    Text,
    cast,
    delete,
    func,
    insert,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from bandstand.inventory.models import INT_MAX, Movie, MovieGenre
from bandstand.platform.pagination import kept_statements
from bandstand.platform.rows import RowWrites
from bandstand.platform.text_search import contains_phrase, contains_words, normalize

ORDERINGS: dict[str, tuple[ColumnElement[Any], ...]] = {
    "id": (Movie.id.asc(),),
    "-id": (Movie.id.desc(),),
    # By the title's normal form: the same order on both engines, whatever their collations.
    "title": (Movie.title_key.asc(), Movie.id.asc()),
    "-title": (Movie.title_key.desc(), Movie.id.desc()),
    # Unknown years first ascending, last descending, on both engines (as the indexes hold them).
    "release_year": (Movie.release_year.asc().nulls_first(), Movie.id.asc()),
    "-release_year": (Movie.release_year.desc().nulls_last(), Movie.id.desc()),
}


class genre_names(FunctionElement[list[str]]):
    """The genres of the movie of the enclosing query, in their order, as one JSON array
    (`[]` for none): a list reads a page's genres in the page's own statement."""

    type = JSON()
    inherit_cache = True


@compiles(genre_names)
def _genre_names(_element: genre_names, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite before 3.44 has no ORDER BY inside an aggregate: it aggregates an ordered subquery.
    names = (
        select(MovieGenre.name)
        .where(MovieGenre.movie_id == Movie.id)
        .order_by(MovieGenre.position)
        .correlate(Movie)
        .subquery()
    )
    return compiler.process(select(func.json_group_array(names.c.name)).scalar_subquery(), **kw)


@compiles(genre_names, "postgresql")
def _genre_names_postgresql(_element: genre_names, compiler: SQLCompiler, **kw: Any) -> str:
    # Written as compact text, as SQLite's and pydantic's arrays are (`json_agg` puts a space
    # after each comma), then cast to `json`, which keeps its text as it is: a page written by
    # the database (`platform.json_rows`) has the same bytes on both engines.
    quoted = cast(func.to_json(MovieGenre.name), Text)
    joined = func.string_agg(quoted, aggregate_order_by(literal_column("','"), MovieGenre.position))
    opened, closed = literal_column("'['", Text), literal_column("']'", Text)
    array = func.coalesce(opened + joined + closed, literal_column("'[]'", Text))
    every = select(cast(array, JSON)).where(MovieGenre.movie_id == Movie.id)
    return compiler.process(every.scalar_subquery(), **kw)


LISTED: tuple[Any, ...] = (
    Movie.id,
    Movie.title,
    Movie.description,
    Movie.release_year,
    genre_names().label("genres"),
    Movie.duration_minutes,
    Movie.created_at,
    Movie.updated_at,
    # Not listed, but a sort key: `next` links carry it.
    Movie.title_key,
)
"""A listed movie's columns: `MovieRead`'s fields, read as plain rows."""


@dataclass(frozen=True)
class MovieFilters:
    """The list's filters. `title` matches every word of it anywhere in the title, or with
    `title_phrase` the whole of it as one piece; both ignore case and accents. `genre` is one
    genre, any case. Blank text filters filter nothing."""

    title: str | None = None
    title_phrase: bool = False
    genre: str | None = None
    year: int | None = None
    ordering: str = "id"


def _valid_id(movie_id: int) -> bool:
    """Whether `movie_id` fits the INTEGER column (a larger one names nothing)."""
    return 1 <= movie_id <= INT_MAX


@kept_statements
def _movie_listing(filters: MovieFilters, kept_text: bool) -> Select[Any]:
    statement = select(*LISTED)
    if kept_text:
        statement = statement.add_columns(Movie.json_head, Movie.json_tail)
    if filters.title is not None and normalize(filters.title):
        if filters.title_phrase:
            statement = statement.where(contains_phrase(Movie.title_key, filters.title))
        else:
            statement = statement.where(*contains_words(Movie.title_key, filters.title))
    if filters.genre is not None and (genre_key := normalize(filters.genre)):
        of_genre = select(MovieGenre.movie_id).where(MovieGenre.name_key == genre_key)
        statement = statement.where(Movie.id.in_(of_genre))
    if filters.year is not None:
        statement = statement.where(Movie.release_year == filters.year)
    return statement.order_by(*ORDERINGS.get(filters.ordering, ORDERINGS["id"]))


class MovieRepository(RowWrites[Movie]):
    """Deleting a movie removes its genres (ON DELETE CASCADE)."""

    async def get(self, session: AsyncSession, movie_id: int) -> Movie | None:
        if not _valid_id(movie_id):
            return None
        return await session.get(Movie, movie_id)

    def listing(self, filters: MovieFilters, *, kept_text: bool = False) -> Select[Any]:
        """The movies the filters keep, in their order, as plain rows of `LISTED`; with
        `kept_text`, the text the database keeps of each too (`models.MOVIE_TEXT`)."""
        return _movie_listing(filters, kept_text)

    async def first(self, session: AsyncSession, filters: MovieFilters, limit: int) -> list[Any]:
        statement = self.listing(filters).limit(limit)
        return list((await session.execute(statement)).all())

    async def by_title(self, session: AsyncSession, title: str) -> Movie | None:
        statement = select(Movie).where(Movie.title == title).order_by(Movie.id).limit(1)
        return (await session.execute(statement)).scalar_one_or_none()

    async def delete_all(self, session: AsyncSession) -> int:
        """Delete every movie and genre; the number of movies deleted."""
        await session.execute(delete(MovieGenre).execution_options(synchronize_session=False))
        result = await session.execute(delete(Movie).execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0) or 0)

    async def count(self, session: AsyncSession) -> int:
        return int((await session.execute(select(func.count()).select_from(Movie))).scalar_one())


class GenreRepository:
    async def of_movies(
        self, session: AsyncSession, movie_ids: Sequence[int]
    ) -> dict[int, list[str]]:
        """The genres of each of `movie_ids` (one page) in their order: one statement."""
        genres: dict[int, list[str]] = {movie_id: [] for movie_id in movie_ids}
        if not movie_ids:
            return genres
        statement = (
            select(MovieGenre.movie_id, MovieGenre.name)
            .where(MovieGenre.movie_id.in_(movie_ids))
            .order_by(MovieGenre.movie_id, MovieGenre.position)
        )
        for movie_id, name in await session.execute(statement):
            genres[int(movie_id)].append(str(name))
        return genres

    async def replace(self, session: AsyncSession, movie_id: int, names: Sequence[str]) -> None:
        """Make `names` the movie's genres, in this order."""
        await session.execute(
            delete(MovieGenre)
            .where(MovieGenre.movie_id == movie_id)
            .execution_options(synchronize_session=False)
        )
        if names:
            rows = [
                {
                    "movie_id": movie_id,
                    "position": position,
                    "name": name,
                    "name_key": normalize(name),
                }
                for position, name in enumerate(names)
            ]
            await session.execute(insert(MovieGenre), rows)
