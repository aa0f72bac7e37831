"""Every query music runs, but the pictures' (`picture_repository.py`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Label,
    Select,
    delete,
    func,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bandstand.music.models import Album, AlbumSong, Like, MusicBase, Song
from bandstand.platform.clock import utcnow
from bandstand.platform.pagination import kept_statements
from bandstand.platform.rows import RowWrites
from bandstand.platform.text_search import contains_words

# What a list shows of a song: everything but the lyrics and the search key.
SONG_COLUMNS: tuple[InstrumentedAttribute[Any], ...] = (
    Song.id,
    Song.title,
    Song.artist,
    Song.genre,
    Song.file_url,
    Song.duration,
    Song.description,
    Song.cover_image_url,
    Song.release_date,
    Song.like_count,
    Song.created_at,
    Song.updated_at,
)
SONG_ORDERINGS: dict[str, tuple[ColumnElement[Any], ...]] = {
    "title": (Song.title.asc(), Song.id.asc()),
    "-title": (Song.title.desc(), Song.id.desc()),
    # NULL dates first ascending, last descending, on both engines (and as the indexes hold them).
    "release_date": (Song.release_date.asc().nulls_first(), Song.id.asc()),
    "-release_date": (Song.release_date.desc().nulls_last(), Song.id.desc()),
    "likes": (Song.like_count.asc(), Song.id.asc()),
    "-likes": (Song.like_count.desc(), Song.id.desc()),
}
ALBUM_COLUMNS: tuple[InstrumentedAttribute[Any], ...] = (
    Album.id,
    Album.title,
    Album.artist,
    Album.genre,
    Album.description,
    Album.cover_image_url,
    Album.created_at,
    Album.updated_at,
)
# Built once: a list's statement starts from these.
_SONGS: Select[Any] = select(*SONG_COLUMNS)
_ALBUMS: Select[Any] = select(*ALBUM_COLUMNS)
# asyncpg and SQLite both accept far more bound parameters; this keeps statements small.
CHUNK = 500
FACET_LIMIT = 200
"""The most values a facet of the songs lists (the most frequent ones)."""


@dataclass(frozen=True)
class SongFilters:
    search: str | None = None
    genre: str | None = None
    artist: str | None = None
    album: int | None = None
    ordering: str | None = None


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def _sync_id_sequence(session: AsyncSession, table: str) -> None:
    """After a row was inserted with an id chosen by the client, move PostgreSQL's sequence past
    it (never back), so that the next generated id neither collides nor reuses an old one.
    SQLite's AUTOINCREMENT does this by itself."""
    if _dialect(session) == "postgresql":
        sequence = f"pg_get_serial_sequence('{table}', 'id')"
        await session.execute(
            text(
                f"SELECT setval({sequence}, "  # noqa: S608 - table names of this module only
                f"GREATEST((SELECT MAX(id) FROM {table}), nextval({sequence}) - 1))"
            )
        )


MusicRow = TypeVar("MusicRow", bound=MusicBase)


class MusicRows(RowWrites[MusicRow]):
    async def add(
        self, session: AsyncSession, row: MusicRow, *, explicit_id: bool = False
    ) -> MusicRow:
        """`explicit_id`: the row's id was chosen by the client (the legacy routes)."""
        await super().add(session, row)
        if explicit_id:
            await _sync_id_sequence(session, row.__tablename__)
        return row


def _chunks(values: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def liked_by(user_id: int) -> Label[bool]:
    """`liked_by_me` of a list of songs for `user_id`: a lookup of the likes' primary key
    (user_id, song_id) per row of the page, in the page's own statement. Not a condition, so a
    list's count leaves it out.

    A scalar subquery rather than EXISTS: PostgreSQL plans an EXISTS in the select list as a
    hashed subplan over all of the user's likes (every page reads them all), where this is one
    index probe per row on both engines."""
    like = select(Like.song_id).where(Like.user_id == user_id, Like.song_id == Song.id)
    return like.scalar_subquery().is_not(None).label("liked_by_me")


@kept_statements
def _facet(column: InstrumentedAttribute[str]) -> Select[Any]:
    """The values of `column` with their numbers of songs, the most frequent first (then by
    value), at most `FACET_LIMIT`: one pass over the column's index (`ix_songs_genre_id`,
    `ix_songs_artist_id`), which holds the values in order, then a sort of the groups alone."""
    count = func.count().label("count")
    columns: tuple[ColumnElement[Any], ...] = (column.label("value"), count)
    return select(*columns).group_by(column).order_by(count.desc(), column.asc()).limit(FACET_LIMIT)


@kept_statements
def _song_listing(filters: SongFilters, viewer_id: int | None, kept_text: bool) -> Select[Any]:
    statement = _SONGS if viewer_id is None else _SONGS.add_columns(liked_by(viewer_id))
    if kept_text:
        statement = statement.add_columns(Song.json_head, Song.json_tail)
    if filters.album is not None:
        statement = statement.join(
            AlbumSong, (AlbumSong.song_id == Song.id) & (AlbumSong.album_id == filters.album)
        )
    if filters.search:
        statement = statement.where(*contains_words(Song.search_text, filters.search))
    if filters.genre is not None:
        statement = statement.where(Song.genre == filters.genre)
    if filters.artist is not None:
        statement = statement.where(Song.artist == filters.artist)
    ordering = SONG_ORDERINGS.get(filters.ordering or "", (Song.id.asc(),))
    return statement.order_by(*ordering)


class SongRepository(MusicRows[Song]):
    """Deleting a song removes its likes and tracks (ON DELETE CASCADE)."""

    async def get(self, session: AsyncSession, song_id: int) -> Song | None:
        return await session.get(Song, song_id)

    async def exists(self, session: AsyncSession, song_id: int) -> bool:
        statement = select(Song.id).where(Song.id == song_id)
        return (await session.execute(statement)).first() is not None

    async def like_count(self, session: AsyncSession, song_id: int) -> int | None:
        statement = select(Song.like_count).where(Song.id == song_id)
        return (await session.execute(statement)).scalar_one_or_none()

    def listing(
        self, filters: SongFilters, viewer_id: int | None = None, *, kept_text: bool = False
    ) -> Select[Any]:
        """The songs `filters` keep, in their order; with `viewer_id`, whether that user likes
        each (`liked_by_me`); with `kept_text`, the text the database keeps of each for the
        lists (`models.SONG_TEXT`)."""
        return _song_listing(filters, viewer_id, kept_text)

    async def first(
        self, session: AsyncSession, limit: int, viewer_id: int | None = None
    ) -> Sequence[Any]:
        """The first `limit` songs by id, as list rows (no lyrics)."""
        statement = self.listing(SongFilters(), viewer_id).limit(limit)
        return list((await session.execute(statement)).all())

    async def count(self, session: AsyncSession) -> int:
        return int((await session.execute(select(func.count()).select_from(Song))).scalar_one())

    def facet_statement(self, column: InstrumentedAttribute[str]) -> Select[Any]:
        return _facet(column)

    async def facet(
        self, session: AsyncSession, column: InstrumentedAttribute[str]
    ) -> list[dict[str, Any]]:
        """`{"value", "count"}` of the songs' values of `column` (`Song.genre`, `Song.artist`)."""
        rows = await session.execute(_facet(column))
        return [{"value": value, "count": count} for value, count in rows.all()]

    async def first_with_lyrics(self, session: AsyncSession, limit: int) -> Sequence[Any]:
        statement = select(Song.id, Song.title, Song.lyrics).order_by(Song.id).limit(limit)
        return (await session.execute(statement)).all()

    async def by_title_and_artist(
        self, session: AsyncSession, title: str, artist: str
    ) -> Song | None:
        statement = select(Song).where(Song.title == title, Song.artist == artist).order_by(Song.id)
        return (await session.execute(statement.limit(1))).scalar_one_or_none()

    async def add_to_like_count(self, session: AsyncSession, song_id: int, delta: int) -> int:
        """Change the count in one statement (no read-modify-write); the new count."""
        statement = (
            update(Song)
            .where(Song.id == song_id)
            .values(like_count=Song.like_count + delta)
            .returning(Song.like_count)
            .execution_options(synchronize_session=False)
        )
        return int((await session.execute(statement)).scalar_one())

    async def decrement_like_counts(self, session: AsyncSession, song_ids: Sequence[int]) -> None:
        for chunk in _chunks(song_ids):
            await session.execute(
                update(Song)
                .where(Song.id.in_(chunk))
                .values(like_count=Song.like_count - 1)
                .execution_options(synchronize_session=False)
            )


class LikeRepository:
    async def add(self, session: AsyncSession, user_id: int, song_id: int) -> bool:
        """Store the like; False when it was there already."""
        build = postgresql_insert if _dialect(session) == "postgresql" else sqlite_insert
        statement = (
            build(Like)
            .values(user_id=user_id, song_id=song_id, created_at=utcnow())
            .on_conflict_do_nothing()
            .returning(Like.song_id)
        )
        return (await session.execute(statement)).scalar_one_or_none() is not None

    async def remove(self, session: AsyncSession, user_id: int, song_id: int) -> bool:
        """Delete the like; False when there was none."""
        statement = (
            delete(Like)
            .where(Like.user_id == user_id, Like.song_id == song_id)
            .returning(Like.song_id)
            .execution_options(synchronize_session=False)
        )
        return (await session.execute(statement)).scalar_one_or_none() is not None

    async def remove_all_of(self, session: AsyncSession, user_id: int) -> list[int]:
        """Delete every like of `user_id`; the ids of the songs they were on."""
        statement = (
            delete(Like)
            .where(Like.user_id == user_id)
            .returning(Like.song_id)
            .execution_options(synchronize_session=False)
        )
        return list((await session.execute(statement)).scalars())

    async def is_liked(self, session: AsyncSession, user_id: int, song_id: int) -> bool:
        statement = select(Like.song_id).where(Like.user_id == user_id, Like.song_id == song_id)
        return (await session.execute(statement)).first() is not None

    def liked_songs(self, user_id: int) -> Select[Any]:
        """`user_id`'s liked songs, the latest like first."""
        return (
            select(*SONG_COLUMNS, true().label("liked_by_me"), Like.created_at.label("liked_at"))
            .join(Like, Like.song_id == Song.id)
            .where(Like.user_id == user_id)
            .order_by(Like.created_at.desc(), Like.song_id.desc())
        )


@kept_statements
def _album_listing(
    search: str | None,
    genre: str | None,
    artist: str | None,
    ordering: str | None,
    song: int | None,
) -> Select[Any]:
    statement = _ALBUMS
    if song is not None:
        # The song's tracks through `ix_album_songs_song_id`, each with its number.
        statement = statement.add_columns(AlbumSong.track_number).join(
            AlbumSong, (AlbumSong.album_id == Album.id) & (AlbumSong.song_id == song)
        )
    if search:
        statement = statement.where(*contains_words(Album.search_text, search))
    if genre is not None:
        statement = statement.where(Album.genre == genre)
    if artist is not None:
        statement = statement.where(Album.artist == artist)
    if ordering == "title":
        return statement.order_by(Album.title.asc(), Album.id.asc())
    if ordering == "-title":
        return statement.order_by(Album.title.desc(), Album.id.desc())
    return statement.order_by(Album.id)


class AlbumRepository(MusicRows[Album]):
    async def get(self, session: AsyncSession, album_id: int) -> Album | None:
        return await session.get(Album, album_id)

    async def exists(self, session: AsyncSession, album_id: int) -> bool:
        statement = select(Album.id).where(Album.id == album_id)
        return (await session.execute(statement)).first() is not None

    def listing(
        self,
        *,
        search: str | None = None,
        genre: str | None = None,
        artist: str | None = None,
        ordering: str | None = None,
        song: int | None = None,
    ) -> Select[Any]:
        """The albums the filters keep, in their order; with `song`, the albums that song is
        on, each with its `track_number` there."""
        return _album_listing(search, genre, artist, ordering, song)

    async def first(self, session: AsyncSession, limit: int) -> Sequence[Any]:
        return list((await session.execute(self.listing().limit(limit))).all())

    async def by_title_and_artist(
        self, session: AsyncSession, title: str, artist: str
    ) -> Album | None:
        statement = select(Album).where(Album.title == title, Album.artist == artist)
        return (await session.execute(statement.order_by(Album.id).limit(1))).scalar_one_or_none()


@kept_statements
def _tracks(album_id: int, viewer_id: int | None) -> Select[Any]:
    statement = _SONGS.add_columns(AlbumSong.track_number)
    if viewer_id is not None:
        statement = statement.add_columns(liked_by(viewer_id))
    return (
        statement.join(AlbumSong, AlbumSong.song_id == Song.id)
        .where(AlbumSong.album_id == album_id)
        .order_by(AlbumSong.track_number, AlbumSong.song_id)
    )


class TrackRepository(MusicRows[AlbumSong]):
    def tracks(self, album_id: int, viewer_id: int | None = None) -> Select[Any]:
        """The songs of an album in track order, with their track numbers (and, with
        `viewer_id`, whether that user likes each)."""
        return _tracks(album_id, viewer_id)

    async def first(
        self, session: AsyncSession, album_id: int, limit: int, viewer_id: int | None
    ) -> Sequence[Any]:
        statement = self.tracks(album_id, viewer_id).limit(limit)
        return list((await session.execute(statement)).all())

    async def track(
        self, session: AsyncSession, album_id: int, song_id: int, viewer_id: int | None
    ) -> Any | None:
        statement = self.tracks(album_id, viewer_id).where(AlbumSong.song_id == song_id)
        return (await session.execute(statement)).first()

    async def get(self, session: AsyncSession, album_id: int, song_id: int) -> AlbumSong | None:
        return await session.get(AlbumSong, (album_id, song_id))

    async def number_taken(self, session: AsyncSession, album_id: int, track_number: int) -> bool:
        statement = select(AlbumSong.song_id).where(
            AlbumSong.album_id == album_id, AlbumSong.track_number == track_number
        )
        return (await session.execute(statement)).first() is not None
