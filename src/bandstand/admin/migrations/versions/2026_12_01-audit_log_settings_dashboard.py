"""audit log, settings and the dashboard's aggregates"""

import sqlalchemy as sa
from alembic import op

from bandstand.platform.messaging.outbox import outbox_columns
from bandstand.platform.migrations import timestamp_columns

revision = "0001_admin"
down_revision = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("service", sa.String(50), nullable=False),
        sa.Column("action", sa.String(255), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("target_type", sa.String(50), nullable=True),
        sa.Column("target_id", sa.String(100), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("ip_address", sa.String(45), nullable=True),
        sa.Column("user_agent", sa.String(512), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
        sa.UniqueConstraint("event_id", name="uq_audit_log_event_id"),
    )
    op.create_index("ix_audit_log_occurred_at_id", "audit_log", ["occurred_at", "id"])
    op.create_index(
        "ix_audit_log_service_occurred_at_id", "audit_log", ["service", "occurred_at", "id"]
    )
    op.create_index(
        "ix_audit_log_action_occurred_at_id", "audit_log", ["action", "occurred_at", "id"]
    )
    op.create_index(
        "ix_audit_log_actor_id_occurred_at_id", "audit_log", ["actor_id", "occurred_at", "id"]
    )
    op.create_table(
        "audit_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("service", sa.String(50), nullable=False),
        sa.Column("action", sa.String(255), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "service", "action", name="pk_audit_counts"),
    )
    op.create_index("ix_audit_counts_action_day", "audit_counts", ["action", "day"])
    op.create_table(
        "daily_metrics",
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.Numeric(18, 2), nullable=False),
        sa.PrimaryKeyConstraint("metric", "day", name="pk_daily_metrics"),
    )
    op.create_table(
        "counters",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_counters"),
    )
    op.create_table(
        "song_popularity",
        sa.Column("song_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("title", sa.String(200), nullable=True),
        sa.Column("artist", sa.String(200), nullable=True),
        sa.Column("like_count", sa.Integer(), nullable=False),
        sa.Column("likes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("song_id", name="pk_song_popularity"),
    )
    op.create_index("ix_song_popularity_like_count", "song_popularity", ["like_count"])
    op.create_table(
        "settings",
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        *timestamp_columns(),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_settings"),
    )
    op.create_table("outbox", *outbox_columns())


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("settings")
    op.drop_table("song_popularity")
    op.drop_table("counters")
    op.drop_table("daily_metrics")
    op.drop_table("audit_counts")
    op.drop_table("audit_log")
