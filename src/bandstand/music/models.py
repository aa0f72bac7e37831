"""Music's tables: songs, albums and their tracks, likes, and event pictures (plus the platform
outbox and processed messages)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bandstand.platform.clock import utcnow
from bandstand.platform.database import ServiceBase, new_metadata
from bandstand.platform.json_text import JsonField
from bandstand.platform.kept_json import KeptJson, KeptRun, keep_json
from bandstand.platform.messaging import attach_outbox, attach_processed_messages
from bandstand.platform.ranged_trigrams import ranged_trigram_index
from bandstand.platform.rows import Timestamps
from bandstand.platform.text_index import trigram_index


class MusicBase(ServiceBase):
    __abstract__ = True
    metadata = new_metadata()


class Song(MusicBase, Timestamps):
    """A song of the catalogue; the concert app's legacy songs are rows of this table too.

    `like_count` is the number of rows in `likes` for the song, kept by the statements that add
    and remove likes. `search_text` is `bandstand.music.search.search_text(title, artist)`.
    """

    __tablename__ = "songs"
    __table_args__ = (
        CheckConstraint("duration >= 0", name="duration_not_negative"),
        CheckConstraint("like_count >= 0", name="like_count_not_negative"),
        # Each ordering of the list has its index, with the id as the tie-breaker.
        Index("ix_songs_like_count_id", "like_count", "id"),
        Index("ix_songs_title_id", "title", "id"),
        Index("ix_songs_genre_id", "genre", "id"),
        Index("ix_songs_artist_id", "artist", "id"),
        # NULL dates sort first ascending on both engines: SQLite's own order, declared on
        # PostgreSQL, whose index would otherwise put them last.
        Index("ix_songs_release_date_id", "release_date", "id").ddl_if(dialect="sqlite"),
        # Search by substring: trigrams on both engines (`platform.text_index`).
        trigram_index("ix_songs_search_text_trgm", "search_text"),
        # A page of a frequent term in id order: its trigrams by range of ids (PostgreSQL).
        ranged_trigram_index("ix_songs_search_text_ranges", "search_text"),
        # Ids are never reused on SQLite either: other services and events keep them.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    artist: Mapped[str] = mapped_column(String(100))
    genre: Mapped[str] = mapped_column(String(50))
    file_url: Mapped[str] = mapped_column(String(255))
    duration: Mapped[int] = mapped_column(Integer)
    """Seconds."""
    description: Mapped[str | None] = mapped_column(String(500), nullable=True)
    cover_image_url: Mapped[str | None] = mapped_column(String(255), nullable=True)
    release_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    lyrics: Mapped[str | None] = mapped_column(Text, nullable=True)
    like_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    search_text: Mapped[str] = mapped_column(Text)
    # Written by the database (`SONG_TEXT`), read only by the lists: never loaded with a song.
    json_head: Mapped[str | None] = mapped_column(Text, nullable=True, deferred=True)
    json_tail: Mapped[str | None] = mapped_column(Text, nullable=True, deferred=True)


SONG_TEXT = KeptJson(
    "songs",
    (
        KeptRun(
            "json_head",
            tuple(
                JsonField(name)
                for name in (
                    "id",
                    "title",
                    "artist",
                    "genre",
                    "file_url",
                    "duration",
                    "description",
                    "cover_image_url",
                    "release_date",
                )
            ),
        ),
        KeptRun("json_tail", (JsonField("created_at", "utc"), JsonField("updated_at", "utc"))),
    ),
)
"""The text of a song in lists (`schemas.SongRead`) but for its like count and the caller's
like, kept by the database in the song's row (`platform.kept_json`)."""
keep_json(Song.__table__, SONG_TEXT)


Index(
    "ix_songs_release_date_nulls_first_id", Song.release_date.asc().nulls_first(), Song.id
).ddl_if(dialect="postgresql")


class Album(MusicBase, Timestamps):
    __tablename__ = "albums"
    __table_args__ = (
        Index("ix_albums_title_id", "title", "id"),
        Index("ix_albums_artist_id", "artist", "id"),
        trigram_index("ix_albums_search_text_trgm", "search_text"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    artist: Mapped[str] = mapped_column(String(100))
    genre: Mapped[str | None] = mapped_column(String(50), nullable=True)
    description: Mapped[str | None] = mapped_column(String(500), nullable=True)
    cover_image_url: Mapped[str | None] = mapped_column(String(255), nullable=True)
    search_text: Mapped[str] = mapped_column(Text)


class AlbumSong(MusicBase):
    """A song on an album, at its track number. A song may be on several albums, once each."""

    __tablename__ = "album_songs"
    __table_args__ = (
        CheckConstraint("track_number >= 1", name="track_number_positive"),
        UniqueConstraint("album_id", "track_number", name="uq_album_songs_album_id_track_number"),
        # Serves the `?album=` filter's join and a song's deletion.
        Index("ix_album_songs_song_id", "song_id"),
    )

    album_id: Mapped[int] = mapped_column(
        ForeignKey("albums.id", ondelete="CASCADE"), primary_key=True
    )
    song_id: Mapped[int] = mapped_column(
        ForeignKey("songs.id", ondelete="CASCADE"), primary_key=True
    )
    track_number: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Like(MusicBase):
    """A user's like of a song. `user_id` is identity's id: a plain column, no foreign key."""

    __tablename__ = "likes"
    __table_args__ = (
        # The primary key serves "this user's like of this song"; these a user's likes newest
        # first and a song's deletion.
        Index("ix_likes_user_id_created_at_song_id", "user_id", "created_at", "song_id"),
        Index("ix_likes_song_id", "song_id"),
    )

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    song_id: Mapped[int] = mapped_column(
        ForeignKey("songs.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Picture(MusicBase, Timestamps):
    """A picture taken at an event (the concert app's gallery)."""

    __tablename__ = "pictures"
    __table_args__ = (
        Index("ix_pictures_event_date_id", "event_date", "id"),
        # Concerts keep picture ids: a deleted picture's id must not come back.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pic_url: Mapped[str] = mapped_column(String(1000))
    event_country: Mapped[str | None] = mapped_column(String(100), nullable=True)
    event_state: Mapped[str | None] = mapped_column(String(100), nullable=True)
    event_city: Mapped[str | None] = mapped_column(String(100), nullable=True)
    event_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    event_date_text: Mapped[str | None] = mapped_column(String(10), nullable=True)
    """`event_date` as the concert app sent it (`11/16/2022`), which its routes give back;
    null when it was sent in ISO form, or through the canonical API."""


attach_outbox(MusicBase.metadata)
attach_processed_messages(MusicBase.metadata)
