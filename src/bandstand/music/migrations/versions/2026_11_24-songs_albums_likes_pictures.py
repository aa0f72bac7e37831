"""songs, albums, album songs, likes and pictures"""

import sqlalchemy as sa
from alembic import op

from bandstand.platform.messaging.idempotency import processed_messages_columns
from bandstand.platform.messaging.outbox import outbox_columns
from bandstand.platform.migrations import timestamp_columns

revision = "0001_music"
down_revision = None


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        # Trigram indexes make `LIKE '%term%'` an index search; a trusted extension since 13.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "songs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("artist", sa.String(100), nullable=False),
        sa.Column("genre", sa.String(50), nullable=False),
        sa.Column("file_url", sa.String(255), nullable=False),
        sa.Column("duration", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(500), nullable=True),
        sa.Column("cover_image_url", sa.String(255), nullable=True),
        sa.Column("release_date", sa.Date(), nullable=True),
        sa.Column("lyrics", sa.Text(), nullable=True),
        sa.Column("like_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        *timestamp_columns(),
        sa.PrimaryKeyConstraint("id", name="pk_songs"),
        sa.CheckConstraint("duration >= 0", name="ck_songs_duration_not_negative"),
        sa.CheckConstraint("like_count >= 0", name="ck_songs_like_count_not_negative"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_songs_like_count_id", "songs", ["like_count", "id"])
    op.create_index("ix_songs_title_id", "songs", ["title", "id"])
    op.create_index("ix_songs_genre_id", "songs", ["genre", "id"])
    op.create_index("ix_songs_artist_id", "songs", ["artist", "id"])
    if postgresql:
        op.create_index(
            "ix_songs_release_date_nulls_first_id",
            "songs",
            [sa.text("release_date ASC NULLS FIRST"), "id"],
        )
        op.create_index(
            "ix_songs_search_text_trgm",
            "songs",
            ["search_text"],
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )
    else:
        op.create_index("ix_songs_release_date_id", "songs", ["release_date", "id"])
        op.create_index("ix_songs_search_text", "songs", ["search_text"])

    op.create_table(
        "albums",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("artist", sa.String(100), nullable=False),
        sa.Column("genre", sa.String(50), nullable=True),
        sa.Column("description", sa.String(500), nullable=True),
        sa.Column("cover_image_url", sa.String(255), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        *timestamp_columns(),
        sa.PrimaryKeyConstraint("id", name="pk_albums"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_albums_title_id", "albums", ["title", "id"])
    op.create_index("ix_albums_artist_id", "albums", ["artist", "id"])

    op.create_table(
        "album_songs",
        sa.Column("album_id", sa.Integer(), nullable=False),
        sa.Column("song_id", sa.Integer(), nullable=False),
        sa.Column("track_number", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("album_id", "song_id", name="pk_album_songs"),
        sa.ForeignKeyConstraint(
            ["album_id"], ["albums.id"], name="fk_album_songs_album_id_albums", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["song_id"], ["songs.id"], name="fk_album_songs_song_id_songs", ondelete="CASCADE"
        ),
        sa.UniqueConstraint(
            "album_id", "track_number", name="uq_album_songs_album_id_track_number"
        ),
        sa.CheckConstraint("track_number >= 1", name="ck_album_songs_track_number_positive"),
    )
    op.create_index("ix_album_songs_song_id", "album_songs", ["song_id"])

    op.create_table(
        "likes",
        sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("song_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "song_id", name="pk_likes"),
        sa.ForeignKeyConstraint(
            ["song_id"], ["songs.id"], name="fk_likes_song_id_songs", ondelete="CASCADE"
        ),
    )
    op.create_index(
        "ix_likes_user_id_created_at_song_id", "likes", ["user_id", "created_at", "song_id"]
    )
    op.create_index("ix_likes_song_id", "likes", ["song_id"])

    op.create_table(
        "pictures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pic_url", sa.String(1000), nullable=False),
        sa.Column("event_country", sa.String(100), nullable=True),
        sa.Column("event_state", sa.String(100), nullable=True),
        sa.Column("event_city", sa.String(100), nullable=True),
        sa.Column("event_date", sa.Date(), nullable=True),
        *timestamp_columns(),
        sa.PrimaryKeyConstraint("id", name="pk_pictures"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_pictures_event_date_id", "pictures", ["event_date", "id"])

    op.create_table("outbox", *outbox_columns())
    op.create_table("processed_messages", *processed_messages_columns())


def downgrade() -> None:
    op.drop_table("processed_messages")
    op.drop_table("outbox")
    op.drop_table("pictures")
    op.drop_table("likes")
    op.drop_table("album_songs")
    op.drop_table("albums")
    op.drop_table("songs")
