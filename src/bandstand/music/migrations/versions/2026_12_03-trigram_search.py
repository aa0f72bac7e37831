"""songs and albums: search by substring through trigrams on both engines"""

from alembic import op

from bandstand.platform.migrations import create_trigram_index, drop_trigram_index

revision = "0004_music"
down_revision = "0003_music"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        create_trigram_index("ix_albums_search_text_trgm", "albums", "search_text")
    else:
        # The FTS5 table answers searches and their counts; the plain index served only counts.
        op.drop_index("ix_songs_search_text", table_name="songs")
        create_trigram_index("ix_songs_search_text_trgm", "songs", "search_text")
        create_trigram_index("ix_albums_search_text_trgm", "albums", "search_text")


def downgrade() -> None:
    drop_trigram_index("ix_albums_search_text_trgm", "albums", "search_text")
    if op.get_bind().dialect.name != "postgresql":
        drop_trigram_index("ix_songs_search_text_trgm", "songs", "search_text")
        op.create_index("ix_songs_search_text", "songs", ["search_text"])
