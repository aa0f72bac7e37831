"""The JSON text of a row's fields that change only when the row is written, kept in the row.

A list page written by the database (`platform.json_rows`) formats each field of each row on
every read: on a signed-in page of 50 songs, SQLite spent 0.11 ms of its 0.19 ms writing the
objects, most of it on the two UTC times, and PostgreSQL more (`to_char`, `to_json` per field).
Most of those fields change only when the row is written. A table may keep the text of runs of
consecutive fields of a response model (`KeptRun`: `"name":value,...`, each field written as
`json_pages` writes it, the same bytes) in columns of its own, which the database writes whenever
the row is inserted or one of their fields changes: triggers, so no write path can forget them
(SQLite: after the write, an update of the row's kept columns; PostgreSQL: before it, setting
them in the row written). A page whose statement selects a run's column reads the run as it is
kept; a row whose kept text is missing (null: written before the triggers were made) is written
from its columns.

A model declares its runs once (`keep_json`, beside its table); `create_all` builds the triggers
on either engine, a migration with `create_kept_json` (`platform.migrations`), which also writes
the text of the rows already there.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import DDL, FromClause, Table, event

from bandstand.platform.json_text import JsonField, pairs_text


@dataclass(frozen=True)
class KeptRun:
    """Consecutive fields of a response model whose text the table keeps in `column`; each
    field is read from the table's column of its name."""

    column: str
    fields: tuple[JsonField, ...]

    def __post_init__(self) -> None:
        for name in (self.column, *(field.name for field in self.fields)):
            if not name.replace("_", "").isalnum() or not name.isascii():
                raise ValueError(f"not an identifier: {name!r}")


@dataclass(frozen=True)
class KeptJson:
    """The runs of `table`'s rows kept as JSON text (`KeptRun`)."""

    table: str
    runs: tuple[KeptRun, ...]

    def __post_init__(self) -> None:
        if not self.table.replace("_", "").isalnum() or not self.table.isascii():
            raise ValueError(f"not an identifier: {self.table!r}")

    def texts(self, dialect: str, row: str) -> list[tuple[str, str]]:
        """Each run's column and the SQL of its text, read from the columns of `row` (the
        table's name, or a trigger's `NEW`)."""
        return [
            (
                run.column,
                pairs_text([(field, f'{row}."{field.name}"') for field in run.fields], dialect),
            )
            for run in self.runs
        ]

    def sources(self) -> list[str]:
        """The columns whose change writes the runs again."""
        return [field.name for run in self.runs for field in run.fields]

    def fill(self, dialect: str) -> str:
        """The statement that writes the runs of every row already in the table."""
        table = f'"{self.table}"'
        return f"UPDATE {table} SET {_assignments(self.texts(dialect, table))}"  # noqa: S608

    def create(self, dialect: str) -> list[str]:
        """The statements that make the triggers writing the runs."""
        name, table, sources = (
            f"{self.table}_kept_json",
            f'"{self.table}"',
            ", ".join(self.sources()),
        )
        if dialect == "postgresql":
            texts = self.texts(dialect, "NEW")
            settings = "; ".join(f'NEW."{column}" := {text}' for column, text in texts)
            return [
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN {settings}; RETURN NEW; END $$",
                f"CREATE TRIGGER {name} BEFORE INSERT OR UPDATE OF {sources} ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {name}()",
            ]
        write = (
            f"UPDATE {table} SET {_assignments(self.texts(dialect, 'NEW'))} "  # noqa: S608
            "WHERE rowid = NEW.rowid;"
        )
        return [
            f"CREATE TRIGGER {name}_insert AFTER INSERT ON {table} BEGIN {write} END",
            f"CREATE TRIGGER {name}_update AFTER UPDATE OF {sources} ON {table} BEGIN {write} END",
        ]

    def drop(self, dialect: str) -> list[str]:
        name = f"{self.table}_kept_json"
        if dialect == "postgresql":
            return [
                f'DROP TRIGGER IF EXISTS {name} ON "{self.table}"',
                f"DROP FUNCTION IF EXISTS {name}()",
            ]
        return [f"DROP TRIGGER IF EXISTS {name}_insert", f"DROP TRIGGER IF EXISTS {name}_update"]


def _assignments(texts: list[tuple[str, str]]) -> str:
    return ", ".join(f'"{column}" = {text}' for column, text in texts)


def keep_json(table: FromClause, kept: KeptJson) -> None:
    """Beside a model (its `__table__`): `create_all` makes the triggers of `kept` with it."""
    if not isinstance(table, Table) or table.name != kept.table:
        raise ValueError(f"the runs of {kept.table!r} are not kept by {table!r}")
    for dialect in ("sqlite", "postgresql"):
        for statement in kept.create(dialect):
            # DDL formats its text with `%`: the writers' own are escaped.
            create = DDL(statement.replace("%", "%%"))  # type: ignore[no-untyped-call]
            event.listen(table, "after_create", create.execute_if(dialect=dialect))
