"""Comparing a migrated database with the models that declare it: for every service's migration
tests."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from bandstand.platform.text_index import trigram_tables


def _built_on(item: Any, dialect: str) -> bool:
    """Whether `create_all` builds `item` on `dialect` (alembic ignores `ddl_if`)."""
    condition = getattr(item, "_ddl_if", None)
    return condition is None or condition.dialect in (None, dialect)


def schema_differences(
    metadata: sa.MetaData,
    *,
    skip_table_prefixes: tuple[str, ...] = (),
    skip_names: Collection[str] = (),
) -> Callable[[Connection], list[Any]]:
    """For `connection.run_sync`: what alembic finds between the database and `metadata`.

    Alembic's own table is left out, the SQLite trigram indexes' FTS5 tables (declared by the
    models through `text_index.trigram_index`, not as tables), and tables whose names start with
    `skip_table_prefixes` and objects named in `skip_names` (what the migration builds for one
    engine only, outside the models). Indexes the models build on another dialect only are not
    expected."""
    prefixes = ("alembic_version", *trigram_tables(), *skip_table_prefixes)

    def differences(connection: Connection) -> list[Any]:
        dialect = connection.dialect.name

        def include_name(name: str | None, kind: str, _parent: Any) -> bool:
            if kind == "table" and str(name).startswith(prefixes):
                return False
            return name not in skip_names

        def include_object(item: Any, _name: Any, kind: str, reflected: bool, _other: Any) -> bool:
            return kind != "index" or reflected or _built_on(item, dialect)

        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_name": include_name,
                "include_object": include_object,
            },
        )
        return list(compare_metadata(context, metadata))

    return differences


def index_definitions(table: str) -> Callable[[Connection], dict[str, str]]:
    """For `connection.run_sync`: each index of `table` by name, as the database itself spells
    its definition (lower case, whitespace collapsed)."""

    def definitions(connection: Connection) -> dict[str, str]:
        if connection.dialect.name == "sqlite":
            query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t"
        else:
            query = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t"
        rows = connection.execute(sa.text(query), {"t": table}).all()
        return {name: " ".join(str(sql).lower().split()) for name, sql in rows}

    return definitions


def sqlite_objects(connection: Connection) -> set[str]:
    """For `connection.run_sync` on SQLite: the name of every table and trigger."""
    query = "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')"
    return {str(name) for (name,) in connection.execute(sa.text(query))}
