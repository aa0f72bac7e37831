"""instruments and their full-text search"""

import sqlalchemy as sa
from alembic import op

from bandstand.platform.messaging.idempotency import processed_messages_columns
from bandstand.platform.messaging.outbox import outbox_columns
from bandstand.platform.migrations import timestamp_columns

revision = "0001_marketplace"
down_revision = None

# SQLite: an FTS5 table over instruments.search_text (external content: the words are stored
# once, in instruments), kept in sync by triggers. Prefix queries (`strat*`) walk the sorted
# term index; no extra prefix index, which would triple the cost of every write.
SQLITE_SEARCH = (
    "CREATE VIRTUAL TABLE instruments_fts USING fts5(search_text, content='instruments',"
    " content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER instruments_fts_insert AFTER INSERT ON instruments BEGIN"
    " INSERT INTO instruments_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER instruments_fts_delete AFTER DELETE ON instruments BEGIN"
    " INSERT INTO instruments_fts(instruments_fts, rowid, search_text)"
    " VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER instruments_fts_update AFTER UPDATE OF search_text ON instruments BEGIN"
    " INSERT INTO instruments_fts(instruments_fts, rowid, search_text)"
    " VALUES ('delete', old.id, old.search_text);"
    " INSERT INTO instruments_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
)
# PostgreSQL: a GIN index over the words of search_text; queries use the same expression.
POSTGRES_SEARCH = (
    "CREATE INDEX ix_instruments_search ON instruments"
    " USING gin (to_tsvector('simple'::regconfig, search_text))",
)


def upgrade() -> None:
    op.create_table(
        "instruments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("price", sa.Numeric(10, 2), nullable=True),
        sa.Column("link", sa.String(1000), nullable=False),
        sa.Column("image", sa.String(1000), nullable=True),
        sa.Column("location", sa.String(500), nullable=True),
        sa.Column("category", sa.String(200), nullable=True),
        sa.Column("expiration", sa.Date(), nullable=True),
        sa.Column("publish", sa.Date(), nullable=True),
        sa.Column("website", sa.String(500), nullable=False),
        sa.Column("search_text", sa.String(1000), nullable=False),
        sa.Column("category_key", sa.String(400), nullable=True),
        sa.Column("website_key", sa.String(1000), nullable=False),
        sa.Column("location_key", sa.String(1000), nullable=True),
        *timestamp_columns(),
        sa.PrimaryKeyConstraint("id", name="pk_instruments"),
        sa.UniqueConstraint("link", name="uq_instruments_link"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_instruments_category_key_id", "instruments", ["category_key", "id"])
    op.create_index("ix_instruments_price_id", "instruments", ["price", "id"])
    op.create_index("ix_instruments_publish_id", "instruments", ["publish", "id"])
    op.create_index("ix_instruments_id_expiration", "instruments", ["id", "expiration"])
    statements = SQLITE_SEARCH if op.get_bind().dialect.name == "sqlite" else POSTGRES_SEARCH
    for statement in statements:
        op.execute(statement)
    op.create_table("outbox", *outbox_columns())
    op.create_table("processed_messages", *processed_messages_columns())


def downgrade() -> None:
    op.drop_table("processed_messages")
    op.drop_table("outbox")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE instruments_fts")
    op.drop_table("instruments")
