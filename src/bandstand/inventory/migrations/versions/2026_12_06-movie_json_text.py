"""movies: the JSON text of their fields that change only with the movie, kept for the list"""

import sqlalchemy as sa
from alembic import op

from bandstand.platform.json_text import JsonField
from bandstand.platform.kept_json import KeptJson, KeptRun
from bandstand.platform.migrations import create_kept_json, drop_kept_json

revision = "0004_inventory"
down_revision = "0003_inventory"

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
"""As the models declared it at this revision."""


def upgrade() -> None:
    op.add_column("movies", sa.Column("json_head", sa.Text(), nullable=True))
    op.add_column("movies", sa.Column("json_tail", sa.Text(), nullable=True))
    create_kept_json(MOVIE_TEXT)


def downgrade() -> None:
    drop_kept_json(MOVIE_TEXT)
    op.drop_column("movies", "json_tail")
    op.drop_column("movies", "json_head")
