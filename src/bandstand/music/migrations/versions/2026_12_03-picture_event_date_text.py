"""pictures: the event date as the concert app sent it, given back on its routes"""

import sqlalchemy as sa
from alembic import op

revision = "0003_music"
down_revision = "0002_music"


def upgrade() -> None:
    op.add_column("pictures", sa.Column("event_date_text", sa.String(10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pictures") as batch:
        batch.drop_column("event_date_text")
