"""movies: search by substring through trigrams on SQLite too"""

from alembic import op

from bandstand.platform.migrations import create_trigram_index, drop_trigram_index

revision = "0003_inventory"
down_revision = "0002_inventory"


def upgrade() -> None:
    # PostgreSQL has had its trigram index since the first revision.
    if op.get_bind().dialect.name != "postgresql":
        create_trigram_index("ix_movies_title_key_trgm", "movies", "title_key")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        drop_trigram_index("ix_movies_title_key_trgm", "movies", "title_key")
