"""movies and their genres"""

import sqlalchemy as sa
from alembic import op

from bandstand.platform.messaging.outbox import outbox_columns
from bandstand.platform.migrations import timestamp_columns

revision = "0001_inventory"
down_revision = None


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        # Trigram indexes make `LIKE '%term%'` an index search; a trusted extension since 13.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "movies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("title_key", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("release_year", sa.Integer(), nullable=True),
        sa.Column("duration_minutes", sa.Integer(), nullable=True),
        *timestamp_columns(),
        sa.PrimaryKeyConstraint("id", name="pk_movies"),
        sa.CheckConstraint(
            "release_year BETWEEN 1870 AND 2100", name="ck_movies_release_year_range"
        ),
        sa.CheckConstraint("duration_minutes >= 1", name="ck_movies_duration_minutes_positive"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_movies_title_key_id", "movies", ["title_key", "id"])
    if postgresql:
        op.create_index(
            "ix_movies_release_year_nulls_first_id",
            "movies",
            [sa.text("release_year ASC NULLS FIRST"), "id"],
        )
        op.create_index(
            "ix_movies_title_key_trgm",
            "movies",
            ["title_key"],
            postgresql_using="gin",
            postgresql_ops={"title_key": "gin_trgm_ops"},
        )
    else:
        op.create_index("ix_movies_release_year_id", "movies", ["release_year", "id"])

    op.create_table(
        "movie_genres",
        sa.Column("movie_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("name_key", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("movie_id", "position", name="pk_movie_genres"),
        sa.ForeignKeyConstraint(
            ["movie_id"], ["movies.id"], name="fk_movie_genres_movie_id_movies", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("movie_id", "name_key", name="uq_movie_genres_movie_id_name_key"),
        sa.CheckConstraint("position >= 0", name="ck_movie_genres_position_not_negative"),
    )
    op.create_index("ix_movie_genres_name_key_movie_id", "movie_genres", ["name_key", "movie_id"])
    op.create_table("outbox", *outbox_columns())


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("movie_genres")
    op.drop_table("movies")
