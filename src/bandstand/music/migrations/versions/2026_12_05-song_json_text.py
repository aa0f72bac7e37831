"""songs: the JSON text of their fields that change only with the song, kept for the lists"""

import sqlalchemy as sa
from alembic import op

from bandstand.platform.json_text import JsonField
from bandstand.platform.kept_json import KeptJson, KeptRun
from bandstand.platform.migrations import create_kept_json, drop_kept_json

revision = "0005_music"
down_revision = "0004_music"

HEAD = ("id", "title", "artist", "genre", "file_url", "duration", "description")
SONG_TEXT = KeptJson(
    "songs",
    (
        KeptRun(
            "json_head",
            tuple(JsonField(name) for name in (*HEAD, "cover_image_url", "release_date")),
        ),
        KeptRun("json_tail", (JsonField("created_at", "utc"), JsonField("updated_at", "utc"))),
    ),
)
"""As the models declared it at this revision."""


def upgrade() -> None:
    op.add_column("songs", sa.Column("json_head", sa.Text(), nullable=True))
    op.add_column("songs", sa.Column("json_tail", sa.Text(), nullable=True))
    create_kept_json(SONG_TEXT)


def downgrade() -> None:
    drop_kept_json(SONG_TEXT)
    op.drop_column("songs", "json_tail")
    op.drop_column("songs", "json_head")
