"""Inventory's tables: movies and their genres (plus the platform outbox; inventory consumes no
events, so it keeps no processed-message ids).

Genres are rows of their own, one per movie and genre, so that `?genre=` is an indexed lookup on
both engines (no JSON or array column, whose operators differ between SQLite and PostgreSQL).
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, validates

from bandstand.platform.database import ServiceBase, new_metadata
from bandstand.platform.json_text import JsonField
from bandstand.platform.kept_json import KeptJson, KeptRun, keep_json
from bandstand.platform.messaging import attach_outbox
from bandstand.platform.rows import Timestamps
from bandstand.platform.text_index import trigram_index
from bandstand.platform.text_search import normalize

INT_MAX = 2_147_483_647
"""The largest value of the INTEGER columns on PostgreSQL: a larger id names nothing."""
TITLE_MAX = 200
GENRE_MAX = 50
EARLIEST_YEAR = 1870
LATEST_YEAR = 2100


class InventoryBase(ServiceBase):
    __abstract__ = True
    metadata = new_metadata()


class Movie(InventoryBase, Timestamps):
    """A movie of the catalogue. `title_key` is `normalize(title)`, kept by the model itself:
    the title search and the title ordering read it."""

    __tablename__ = "movies"
    __table_args__ = (
        CheckConstraint(
            f"release_year BETWEEN {EARLIEST_YEAR} AND {LATEST_YEAR}", name="release_year_range"
        ),
        CheckConstraint("duration_minutes >= 1", name="duration_minutes_positive"),
        # Each ordering of the list has its index, with the id as the tie-breaker.
        Index("ix_movies_title_key_id", "title_key", "id"),
        Index("ix_movies_release_year_id", "release_year", "id").ddl_if(dialect="sqlite"),
        # Search by substring: trigrams on both engines (`platform.text_index`).
        trigram_index("ix_movies_title_key_trgm", "title_key"),
        # Ids are never reused on SQLite either: events and other systems keep them.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    title_key: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    release_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    duration_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """Running time in minutes."""
    # Written by the database (`MOVIE_TEXT`), read only by the list: never loaded with a movie.
    json_head: Mapped[str | None] = mapped_column(Text, nullable=True, deferred=True)
    json_tail: Mapped[str | None] = mapped_column(Text, nullable=True, deferred=True)

    @validates("title")
    def _keep_title_key(self, _key: str, title: str) -> str:
        self.title_key = normalize(title)
        return title


MOVIE_TEXT = KeptJson(
    "movies",
    (
        KeptRun(
            "json_head",
            tuple(JsonField(name) for name in ("id", "title", "description", "release_year")),
        ),
        KeptRun(
            "json_tail",
            (
                JsonField("duration_minutes"),
                JsonField("created_at", "utc"),
                JsonField("updated_at", "utc"),
            ),
        ),
    ),
)
"""The text of a movie in the list (`schemas.MovieRead`) but for its genres, kept by the
database in the movie's row (`platform.kept_json`)."""
keep_json(Movie.__table__, MOVIE_TEXT)

# NULL years sort first ascending on both engines: SQLite's own order, declared on PostgreSQL,
# whose index would otherwise put them last.
Index(
    "ix_movies_release_year_nulls_first_id", Movie.release_year.asc().nulls_first(), Movie.id
).ddl_if(dialect="postgresql")


class MovieGenre(InventoryBase):
    """One genre of a movie, at its place in the movie's list. `name_key` is `normalize(name)`:
    a movie holds a genre once whatever its case, and `?genre=` matches it in any case."""

    __tablename__ = "movie_genres"
    __table_args__ = (
        CheckConstraint("position >= 0", name="position_not_negative"),
        UniqueConstraint("movie_id", "name_key", name="uq_movie_genres_movie_id_name_key"),
        # Serves `?genre=`: the movies of one genre, by id.
        Index("ix_movie_genres_name_key_movie_id", "name_key", "movie_id"),
    )

    movie_id: Mapped[int] = mapped_column(
        ForeignKey("movies.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(GENRE_MAX))
    name_key: Mapped[str] = mapped_column(Text)

    @validates("name")
    def _keep_name_key(self, _key: str, name: str) -> str:
        self.name_key = normalize(name)
        return name


attach_outbox(InventoryBase.metadata)
