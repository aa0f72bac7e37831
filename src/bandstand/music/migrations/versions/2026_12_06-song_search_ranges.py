"""songs: their search text's trigrams by range of ids, for a page of a frequent term"""

from bandstand.platform.migrations import create_ranged_trigram_index, drop_ranged_trigram_index

revision = "0006_music"
down_revision = "0005_music"


def upgrade() -> None:
    create_ranged_trigram_index("ix_songs_search_text_ranges", "songs", "search_text")


def downgrade() -> None:
    drop_ranged_trigram_index("ix_songs_search_text_ranges", "songs")
