"""courses, lessons, enrollments, lesson completions, members"""

import sqlalchemy as sa
from alembic import op

from bandstand.platform.messaging.idempotency import processed_messages_columns
from bandstand.platform.messaging.outbox import outbox_columns
from bandstand.platform.migrations import timestamp_columns

revision = "0001_academy"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "courses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("instructor_id", sa.Integer(), nullable=True),
        sa.Column("difficulty_level", sa.String(12), nullable=False),
        sa.Column("duration_hours", sa.Integer(), nullable=False),
        sa.Column("price", sa.Numeric(10, 2), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        *timestamp_columns(),
        sa.PrimaryKeyConstraint("id", name="pk_courses"),
        sa.CheckConstraint(
            "difficulty_level IN ('BEGINNER', 'INTERMEDIATE', 'ADVANCED')",
            name="ck_courses_difficulty_level_allowed",
        ),
        sa.CheckConstraint("duration_hours >= 0", name="ck_courses_duration_hours_not_negative"),
        sa.CheckConstraint("price >= 0", name="ck_courses_price_not_negative"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_courses_is_active_id", "courses", ["is_active", "id"])
    op.create_index("ix_courses_instructor_id", "courses", ["instructor_id"])
    op.create_table(
        "lessons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("video_url", sa.String(500), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("order", sa.Integer(), nullable=False),
        sa.Column("is_published", sa.Boolean(), nullable=False),
        *timestamp_columns(),
        sa.PrimaryKeyConstraint("id", name="pk_lessons"),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name="fk_lessons_course_id_courses", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("course_id", "order", name="uq_lessons_course_id_order"),
        sa.CheckConstraint('"order" >= 1', name="ck_lessons_order_positive"),
        sa.CheckConstraint(
            "duration_minutes >= 0", name="ck_lessons_duration_minutes_not_negative"
        ),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "enrollments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_enrollments"),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name="fk_enrollments_course_id_courses",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("user_id", "course_id", name="uq_enrollments_user_id_course_id"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_enrollments_course_id_enrolled_at", "enrollments", ["course_id", "enrolled_at"]
    )
    op.create_table(
        "lesson_completions",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "lesson_id", name="pk_lesson_completions"),
        sa.ForeignKeyConstraint(
            ["lesson_id"],
            ["lessons.id"],
            name="fk_lesson_completions_lesson_id_lessons",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name="fk_lesson_completions_course_id_courses",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_lesson_completions_course_id_user_id",
        "lesson_completions",
        ["course_id", "user_id"],
    )
    op.create_index("ix_lesson_completions_lesson_id", "lesson_completions", ["lesson_id"])
    op.create_table(
        "members",
        sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("username", sa.String(150), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_members"),
    )
    op.create_table("outbox", *outbox_columns())
    op.create_table("processed_messages", *processed_messages_columns())


def downgrade() -> None:
    op.drop_table("processed_messages")
    op.drop_table("outbox")
    op.drop_table("members")
    op.drop_table("lesson_completions")
    op.drop_table("enrollments")
    op.drop_table("lessons")
    op.drop_table("courses")
