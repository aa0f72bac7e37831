"""concerts and attendance"""

import sqlalchemy as sa
from alembic import op

from bandstand.platform.messaging.idempotency import processed_messages_columns
from bandstand.platform.messaging.outbox import outbox_columns
from bandstand.platform.migrations import timestamp_columns

revision = "0001_concerts"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "concerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("concert_name", sa.String(200), nullable=False),
        sa.Column("duration", sa.Integer(), nullable=False),
        sa.Column("city", sa.String(100), nullable=False),
        sa.Column("city_key", sa.String(100), nullable=False),
        sa.Column("date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("venue", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("picture_id", sa.Integer(), nullable=True),
        *timestamp_columns(),
        sa.PrimaryKeyConstraint("id", name="pk_concerts"),
        sa.CheckConstraint("duration >= 1", name="ck_concerts_duration_positive"),
    )
    op.create_index("ix_concerts_date_id", "concerts", ["date", "id"])
    op.create_index("ix_concerts_city_key_date", "concerts", ["city_key", "date"])
    op.create_table(
        "attendance",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("concert_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "concert_id", name="pk_attendance"),
        sa.ForeignKeyConstraint(
            ["concert_id"],
            ["concerts.id"],
            name="fk_attendance_concert_id_concerts",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "status IN ('Attending', 'Not Attending', '-')", name="ck_attendance_status_allowed"
        ),
    )
    op.create_index("ix_attendance_concert_id_status", "attendance", ["concert_id", "status"])
    op.create_table("outbox", *outbox_columns())
    op.create_table("processed_messages", *processed_messages_columns())


def downgrade() -> None:
    op.drop_table("processed_messages")
    op.drop_table("outbox")
    op.drop_table("attendance")
    op.drop_table("concerts")
