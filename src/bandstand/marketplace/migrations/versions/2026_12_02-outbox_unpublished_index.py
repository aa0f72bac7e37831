"""outbox: an index of the unpublished rows in id order, for the relay's claim

Revision ID: 0002_marketplace
Revises: 0001_marketplace
Create Date: 2026-12-02
"""

from alembic import op

from bandstand.platform.messaging.outbox import create_unpublished_index, drop_unpublished_index

revision = "0002_marketplace"
down_revision = "0001_marketplace"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_unpublished_index(op)


def downgrade() -> None:
    drop_unpublished_index(op)
