"""Every query the inventory service runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.inventory.models import INT_MAX, Movie, MovieGenre
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


class MovieRepository(RowWrites[Movie]):
    """Deleting a movie removes its genres (ON DELETE CASCADE)."""

    async def get(self, session: AsyncSession, movie_id: int) -> Movie | None:
        if not _valid_id(movie_id):
            return None
        return await session.get(Movie, movie_id)

    def listing(self, filters: MovieFilters) -> Select[Any]:
        statement = select(Movie)
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

    async def first(self, session: AsyncSession, filters: MovieFilters, limit: int) -> list[Movie]:
        statement = self.listing(filters).limit(limit)
        return list((await session.execute(statement)).scalars())

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
