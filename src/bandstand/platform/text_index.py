"""The index behind substring search on a stored normal form, the same kind on both engines:
trigrams.

- PostgreSQL: a GIN index with `pg_trgm`'s operator class, which `column LIKE '%term%'` uses.
- SQLite: an FTS5 table with the trigram tokenizer over the column (external content: the text
  is stored once, in the table), kept by triggers. `column LIKE` on the table cannot use it, so a
  term is asked of the FTS5 table with GLOB, which it answers from its trigrams.

A model declares it once in its `__table_args__` (`trigram_index`); `create_all` builds it on
either engine, a migration with `create_trigram_index`. `Contains` is the one condition that
uses it, rendered for the engine the statement runs on (`text_search.contains_words` builds it).
An index answers a count, and a page of a rare term, in time proportional to the matches; a page
of a frequent term is found sooner along the list's order (`for_page`, which `paginate` applies
once it knows the count).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import (
    DDL,
    Boolean,
    ColumnElement,
    Index,
    Select,
    Table,
    and_,
    column,
    event,
    func,
    select,
    table,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import (
    ExternallyTraversible,
    InternalTraversal,
    iterate,
    replacement_traverse,
)

FREQUENT = 1000
"""Matches past which a page is found sooner by walking the list's order and testing each row
than by reading every match from the index and sorting them (measured at 100,000 songs: the
index reads a match in about 4 µs; a page of a term matched by 4% of the rows is found within
the first 1,300 rows of the order)."""

WALKED_SHARE = 20
"""A term matched by at least one row in this many is walked too, however few its matches: in a
small table the index reading most of its rows costs more than the walk (measured at 1,000
songs: 16.8 ms of a request for `?search=song`, which every row matches, against 4.9 ms for the
whole list)."""

_TRIGRAM_TABLES: dict[tuple[str, str], str] = {}
"""The FTS5 table of each indexed (table, column): what `contains` asks on SQLite."""


def trigram_table(table_name: str, column_name: str) -> str:
    """The name of the SQLite FTS5 table that indexes `table_name.column_name`."""
    return f"{table_name}_{column_name}_trigrams"


def trigram_tables() -> list[str]:
    """Every trigram table declared by a model (the tables a schema comparison leaves out, with
    FTS5's own shadow tables, which share their name as a prefix)."""
    return sorted(_TRIGRAM_TABLES.values())


def sqlite_trigram_ddl(table_name: str, column_name: str, key: str = "id") -> list[str]:
    """The statements that create the FTS5 table of `table_name.column_name` and the triggers
    that keep it (a row's `key` is its rowid there)."""
    # Identifiers of the models' own tables, never input.
    fts, col = trigram_table(table_name, column_name), column_name
    remove = f"INSERT INTO {fts}({fts}, rowid, {col}) VALUES ('delete', old.{key}, old.{col});"  # noqa: S608
    add = f"INSERT INTO {fts}(rowid, {col}) VALUES (new.{key}, new.{col});"  # noqa: S608
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5({col}, content='{table_name}',"
        f" content_rowid='{key}', tokenize='trigram')",
        f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table_name} BEGIN {add} END",
        f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table_name} BEGIN {remove} END",
        f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {col} ON {table_name}"
        f" BEGIN {remove} {add} END",
    ]


def sqlite_trigram_rebuild(table_name: str, column_name: str) -> str:
    """The statement that indexes every row already in the table (after creating the index)."""
    fts = trigram_table(table_name, column_name)
    return f"INSERT INTO {fts}({fts}) VALUES ('rebuild')"  # noqa: S608


def trigram_index(name: str, column_name: str) -> Index:
    """For a model's `__table_args__`: the trigram index of `column_name` on both engines (the
    returned `Index` is PostgreSQL's; SQLite's FTS5 table is created with the table)."""
    index = Index(
        name,
        column_name,
        postgresql_using="gin",
        postgresql_ops={column_name: "gin_trgm_ops"},
    ).ddl_if(dialect="postgresql")

    def attach(_index: Index, parent: Table) -> None:
        fts = _TRIGRAM_TABLES[(parent.name, column_name)] = trigram_table(parent.name, column_name)
        for statement in sqlite_trigram_ddl(parent.name, column_name):
            create = DDL(statement)  # type: ignore[no-untyped-call]
            event.listen(parent, "after_create", create.execute_if(dialect="sqlite"))
        drop = DDL(f"DROP TABLE IF EXISTS {fts}")  # type: ignore[no-untyped-call]
        event.listen(parent, "before_drop", drop.execute_if(dialect="sqlite"))

    event.listen(index, "after_parent_attach", attach)
    return index


class Contains(ColumnElement[bool]):
    """A condition on an indexed column: `LIKE` each of `like_patterns`, or on SQLite the rows
    whose trigrams match each of `glob_patterns` (the same conditions, asked of the index in one
    lookup, which intersects them before reading any row)."""

    inherit_cache = True
    type = Boolean()
    # A condition as it is, never compared with 1 as SQLAlchemy does a boolean value on an
    # engine without booleans: SQLite cannot drive `id IN (...) = 1` from the index (measured:
    # a page of a term with 24 matches scanned all 100,000 songs, 30.6 ms against 1.2 ms).
    _is_implicitly_boolean = True
    _traverse_internals = [
        ("anywhere", InternalTraversal.dp_clauseelement),
        ("on_sqlite", InternalTraversal.dp_clauseelement),
    ]

    def __init__(
        self,
        target: Any,
        texts: Sequence[str],
        like_patterns: Sequence[str],
        glob_patterns: Sequence[str | None],
    ) -> None:
        """`like_patterns[i]` finds `texts[i]` (in normal form) anywhere in the column;
        `glob_patterns[i]` is the same asked of the index, or None for a term too short to have
        a trigram, which is tested with its `LIKE` on the table's rows instead: SQLite 3.40's
        FTS5 crashes the process (a segmentation fault) on a trigram table asked `GLOB` of a
        pattern under three characters followed by a longer one."""
        indexed_column = target.expression
        self.table: Table = indexed_column.table
        likes = [target.like(pattern, escape="\\") for pattern in like_patterns]
        self.anywhere: ColumnElement[bool] = and_(*likes)
        self.scanned = Scanned(
            and_(*(func.strpos(target, text) > 0 for text in texts)),
            and_(*(func.instr(target, text) > 0 for text in texts)),
        )
        self.on_sqlite: ColumnElement[bool] = self.anywhere
        indexed = _TRIGRAM_TABLES.get((indexed_column.table.name, indexed_column.name))
        usable = list(zip(likes, glob_patterns, strict=True))
        if indexed is not None and any(glob is not None for _like, glob in usable):
            fts = table(indexed, column("rowid"), column(indexed_column.name))
            globs = [fts.c[indexed_column.name].op("GLOB")(glob) for _like, glob in usable if glob]
            unindexed = [like for like, glob in usable if glob is None]
            found = indexed_column.table.c.id.in_(select(fts.c.rowid).where(*globs))
            self.on_sqlite = and_(found, *unindexed) if unindexed else found


class Scanned(ColumnElement[bool]):
    """`Contains` tested on each row read (`for_page`): the position of each text in the
    column (`strpos`, on SQLite `instr`), the test of its `LIKE`s on a normal form, which has
    no capitals to fold and no wildcards. SQLite's `LIKE` of a bound pattern costs it more a row
    (measured: a page of a song search walking 1,575 rows, 0.42 ms against 0.28 ms), and on
    PostgreSQL no index answers `strpos`: the plan is the walk whatever the text, so it may be
    made once (`plans_alike`)."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # as `Contains`
    _traverse_internals = [
        ("anywhere", InternalTraversal.dp_clauseelement),
        ("on_sqlite", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, anywhere: ColumnElement[bool], on_sqlite: ColumnElement[bool]) -> None:
        self.anywhere = anywhere
        self.on_sqlite = on_sqlite


@compiles(Contains)
@compiles(Scanned)
def _compile_like(element: Contains | Scanned, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.anywhere, **kw)})"


@compiles(Contains, "sqlite")
@compiles(Scanned, "sqlite")
def _compile_sqlite(element: Contains | Scanned, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.on_sqlite, **kw)})"


S = TypeVar("S", bound=Select[Any])


def for_page(statement: S, matches: int, rows: int | None = None) -> S:
    """`statement`, to read one page of `matches` rows out of about `rows` (None: not known):
    past `FREQUENT` matches, or one row in `WALKED_SHARE`, its conditions are tested row by row
    along the list's order instead of asked of the index."""
    if matches <= FREQUENT and (rows is None or matches * WALKED_SHARE < rows):
        return statement
    walked = _WALKED.get(statement)
    if walked is None:
        walked = _WALKED[statement] = _walked(statement)
    return walked


_WALKED: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
"""The walked form of each statement, built once: a list's statements are kept built, and a
new statement would have SQLAlchemy find its cache key and the list its ordering again."""


def _walked(statement: S) -> S:
    # Only the conditions change: cloning the whole statement to find them cost a request
    # more than its page's query.
    walked = statement._generate()
    walked._where_criteria = tuple(
        condition.scanned
        if isinstance(condition, Contains)
        else replacement_traverse(condition, {}, _scanned)
        for condition in statement._where_criteria
    )
    return walked


def plans_alike(statement: Select[Any]) -> bool:
    """Whether the best plan of `statement` is the same whatever its values: it has no
    conditions, or only searches walked along its order (`Scanned`), which no index answers."""
    return all(isinstance(condition, Scanned) for condition in statement._where_criteria)


def searched_table(statement: Select[Any]) -> Table | None:
    """The table whose indexed column `statement` searches (`Contains`), if it does."""
    where = statement.whereclause
    if where is None:
        return None
    for element in iterate(where):
        if isinstance(element, Contains):
            return element.table
    return None


def _scanned(element: ExternallyTraversible, **_kw: Any) -> ExternallyTraversible | None:
    return element.scanned if isinstance(element, Contains) else None
