"""Alembic migrations per service, run programmatically on the service's own database.

A service's `migrations/env.py` is two lines: it calls `run_env(metadata)`. Each service keeps
its own version table, so services never share migration history.

Replicas and workers that start at once migrate one after the other: on PostgreSQL the upgrade
holds a transaction-level advisory lock of its service, so the others wait, then find the
database at head and have nothing to do (without it, two of them would create the same tables
and one would fail).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from bandstand.platform.advisory_locks import hold_until_commit
from bandstand.platform.database import Database
from bandstand.platform.kept_json import KeptJson
from bandstand.platform.messaging.outbox import create_unpublished_index, drop_unpublished_index
from bandstand.platform.ranged_trigrams import DROP_FUNCTION_DDL, FUNCTION_DDL, index_expression
from bandstand.platform.text_index import sqlite_trigram_ddl, sqlite_trigram_rebuild, trigram_table

MigrationStep = Callable[[], None]


def timestamp_columns() -> list[sa.Column[Any]]:
    """In a migration's `create_table`: the `created_at` and `updated_at` columns (as the
    models declare them, `rows.Timestamps` among others)."""
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def create_trigram_index(name: str, table: str, column: str) -> None:
    """In a migration: the trigram index a model declares with `text_index.trigram_index`,
    on the engine migrated (a GIN index on PostgreSQL, an FTS5 table and its triggers on SQLite,
    filled with the rows already there)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")  # trusted since PostgreSQL 13
        op.create_index(
            name, table, [column], postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"}
        )
        return
    for statement in [*sqlite_trigram_ddl(table, column), sqlite_trigram_rebuild(table, column)]:
        op.execute(statement)


def drop_trigram_index(name: str, table: str, column: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index(name, table_name=table)
    else:
        fts = trigram_table(table, column)
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS {fts}_{trigger}")
        op.execute(f"DROP TABLE IF EXISTS {fts}")


def create_ranged_trigram_index(name: str, table: str, column: str) -> None:
    """In a migration: the ranged trigram index a model declares with
    `ranged_trigrams.ranged_trigram_index` (PostgreSQL only), with its function."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION_DDL)
        op.create_index(name, table, [sa.text(index_expression(column))], postgresql_using="gin")


def drop_ranged_trigram_index(name: str, table: str, *, last: bool = True) -> None:
    """`last`: no other index of the database uses the function, which goes too."""
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index(name, table_name=table)
        if last:
            op.execute(DROP_FUNCTION_DDL)


def create_kept_json(kept: KeptJson) -> None:
    """In a migration: the triggers writing the JSON text a model keeps (`kept_json.keep_json`),
    their columns already added, and the text of the rows already there."""
    dialect = op.get_bind().dialect.name
    for statement in [*kept.create(dialect), kept.fill(dialect)]:
        op.execute(statement)


def drop_kept_json(kept: KeptJson) -> None:
    for statement in kept.drop(op.get_bind().dialect.name):
        op.execute(statement)


def alembic_config(service: str, migrations_dir: Path) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("version_table", f"alembic_version_{service}")
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d-%%(slug)s")
    return config


def run_env(metadata: MetaData) -> None:
    """Body of every service's `env.py`: migrate the connection handed over by `upgrade`."""
    config = context.config
    connection: Connection | None = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations with `bandstand migrate`, not the alembic command")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=config.get_main_option("version_table") or "alembic_version",
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def upgrade(
    database: Database, service: str, migrations_dir: Path, revision: str = "head"
) -> None:
    config = alembic_config(service, migrations_dir)

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with database.engine.begin() as connection:
        await hold_until_commit(connection, f"bandstand.migrate.{service}")
        await connection.run_sync(run)


def upgrade_blocking(url: str, service: str, migrations_dir: Path) -> None:
    """Migrate from synchronous code (the CLI)."""

    async def main() -> None:
        database = Database(url)
        try:
            await upgrade(database, service, migrations_dir)
        finally:
            await database.dispose()

    asyncio.run(main())


def unpublished_index_steps() -> tuple[MigrationStep, MigrationStep]:
    """The `upgrade` and `downgrade` of every service's migration that adds the outbox's index of
    unpublished rows: `upgrade, downgrade = unpublished_index_steps()`."""

    def upgrade() -> None:
        create_unpublished_index(op)

    def downgrade() -> None:
        drop_unpublished_index(op)

    return upgrade, downgrade
