"""courses: a search key in the platform's normal form, searched through trigrams"""

import sqlalchemy as sa
from alembic import op

from bandstand.academy.models import course_search_text
from bandstand.platform.migrations import create_trigram_index, drop_trigram_index

revision = "0003_academy"
down_revision = "0002_academy"

_BATCH = 1000


def upgrade() -> None:
    op.add_column("courses", sa.Column("search_text", sa.Text(), nullable=True))
    courses = sa.table(
        "courses",
        sa.column("id", sa.Integer()),
        sa.column("title", sa.String()),
        sa.column("description", sa.Text()),
        sa.column("search_text", sa.Text()),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(courses.c.id, courses.c.title, courses.c.description))
    everything = rows.all()
    for start in range(0, len(everything), _BATCH):
        batch = everything[start : start + _BATCH]
        connection.execute(
            courses.update().where(courses.c.id == sa.bindparam("course_id")),
            [
                {"course_id": course_id, "search_text": course_search_text(title, description)}
                for course_id, title, description in batch
            ],
        )
    with op.batch_alter_table("courses") as batch_op:
        batch_op.alter_column("search_text", existing_type=sa.Text(), nullable=False)
    create_trigram_index("ix_courses_search_text_trgm", "courses", "search_text")


def downgrade() -> None:
    drop_trigram_index("ix_courses_search_text_trgm", "courses", "search_text")
    with op.batch_alter_table("courses") as batch_op:
        batch_op.drop_column("search_text")
