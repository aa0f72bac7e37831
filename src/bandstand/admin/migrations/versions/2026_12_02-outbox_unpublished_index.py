"""outbox: an index of the unpublished rows in id order, for the relay's claim

Revision ID: 0002_admin
Revises: 0001_admin
Create Date: 2026-12-02
"""

from alembic import op

from bandstand.platform.messaging.outbox import create_unpublished_index, drop_unpublished_index

revision = "0002_admin"
down_revision = "0001_admin"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_unpublished_index(op)


def downgrade() -> None:
    drop_unpublished_index(op)
