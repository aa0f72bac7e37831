"""orders: no redelivery count of their own (the messaging layer counts a message's attempts)

Revision ID: 0003_billing
Revises: 0002_billing
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_billing"
down_revision = "0002_billing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("redeliveries")


def downgrade() -> None:
    op.add_column(
        "orders",
        sa.Column("redeliveries", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
