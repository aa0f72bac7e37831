"""The index behind substring search on a stored normal form, the same kind on both engines:
trigrams.

- PostgreSQL: a GIN index with `pg_trgm`'s operator class, which `column LIKE '%term%'` uses.
- SQLite: an FTS5 table with the trigram tokenizer over the column (external content: the text
  is stored once, in the table), kept by triggers. `column LIKE` on the table cannot use it, so a
  term is asked of the FTS5 table as a phrase (`MATCH`), which it answers from its trigrams.

A model declares it once in its `__table_args__` (`trigram_index`); `create_all` builds it on
either engine, a migration with `create_trigram_index`. `Contains` is the one condition that
uses it, rendered for the engine the statement runs on (`text_search.contains_words` builds it).
An index answers a count, and a page of a rare term, in time proportional to the matches; a page
of a frequent term is found sooner along the list's order (`for_page`, which `paginate` applies
once it knows the count). On SQLite a list in id order is read in the index's own order, which
is the same (`driven_by_index`): its page costs the rows it shows, whatever the term. On
PostgreSQL a column that also keeps its trigrams by range of ids has such a page asked of the
ranges it should end within (`platform.ranged_trigrams.ranged_page`).
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
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
from sqlalchemy.sql import operators
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import TableClause
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
    whose trigrams match each of `phrases` (the same conditions, asked of the index in one
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
        phrases: Sequence[str | None],
    ) -> None:
        """`like_patterns[i]` finds `texts[i]` (in normal form) anywhere in the column;
        `phrases[i]` is the same asked of the index (an FTS5 phrase, which the trigram tokenizer
        finds as a substring), or None for a term too short to have a trigram, which is tested
        with its `LIKE` on the table's rows instead.

        The index is asked by `MATCH`, which it answers from its trigrams alone, where `GLOB`
        also reads each candidate's text (a count of 3,869 matches among 100,000 songs: 4.4
        against 10.9 ms)."""
        indexed_column = target.expression
        self.table: Table = indexed_column.table
        self.column: ColumnElement[str] = indexed_column
        self.texts = tuple(texts)
        likes = [target.like(pattern, escape="\\") for pattern in like_patterns]
        self.anywhere: ColumnElement[bool] = and_(*likes)
        self.scanned = Scanned(
            and_(*(func.strpos(target, text) > 0 for text in texts)),
            and_(*(func.instr(target, text) > 0 for text in texts)),
        )
        self.on_sqlite: ColumnElement[bool] = self.anywhere
        self.index: IndexMatch | None = None
        indexed = _TRIGRAM_TABLES.get((indexed_column.table.name, indexed_column.name))
        usable = list(zip(likes, phrases, strict=True))
        if indexed is not None and any(phrase is not None for _like, phrase in usable):
            fts = _fts_table(indexed, self.table)
            query = " ".join(phrase for _like, phrase in usable if phrase is not None)
            matched = fts.table.c[indexed].match(query)
            unindexed = [like for like, phrase in usable if phrase is None]
            self.index = IndexMatch(fts, matched, unindexed)
            found = self.table.c.id.in_(select(fts.table.c.rowid).where(matched))
            self.on_sqlite = and_(found, *unindexed) if unindexed else found


@dataclass(frozen=True)
class FtsTable:
    """An FTS5 table as statements name it, with its join to the indexed table by rowid and its
    rowid orders (built once per table: building them anew cost a page 30 µs)."""

    table: TableClause
    joined: ColumnElement[bool]
    ascending: ColumnElement[Any]
    descending: ColumnElement[Any]


@functools.cache
def _fts_table(name: str, indexed: Table) -> FtsTable:
    fts = table(name, column("rowid"), column(name))
    rowid = fts.c.rowid
    return FtsTable(fts, rowid == indexed.c.id, rowid.asc(), rowid.desc())


@dataclass(frozen=True)
class IndexMatch:
    """How SQLite's index answers a `Contains`: its FTS5 table, the `MATCH` of the indexed
    terms, and the conditions on the row of the terms too short for it."""

    fts: FtsTable
    matched: ColumnElement[bool]
    unindexed: list[ColumnElement[bool]]


def fts_phrase(text: str) -> str:
    """`text` as one FTS5 phrase: every character literal (a double quote doubled)."""
    return '"' + text.replace('"', '""') + '"'


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
    planned_alike = True  # `plans_alike`
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


def driven_by_index(statement: S) -> S | None:
    """On SQLite, `statement` read from its search's index in the index's own order, when the
    list is in id order (ascending or descending) and searches one indexed column; None
    otherwise. The index keeps its matches in rowid order, so the page is the first rows it
    finds, however many match or how rare they are: the join on the rowid replaces the table's
    id in the order and the other conditions (a cursor's bound becomes a range of the index).

    Measured at 100,000 songs, a page in id order: 3,869 matches 0.11 ms (walked along the
    list, 0.20 ms); 95 matches of two words 0.73 ms (walked, 22.7 ms)."""
    if statement in _DRIVEN:
        known: S | None = _DRIVEN[statement]
        return known
    driven = _DRIVEN[statement] = _driven(statement)
    return driven


_DRIVEN: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
"""The driven form of each statement (or None), built once, as `_WALKED`."""


def _driven(statement: S) -> S | None:
    searches = [c for c in statement._where_criteria if isinstance(c, Contains)]
    if len(searches) != 1 or searches[0].index is None:
        return None
    search, index = searches[0], searches[0].index
    identifier = search.table.c.get("id")
    order = statement._order_by_clauses
    if identifier is None or len(order) != 1:
        return None
    descending = descending_on(order[0], identifier)
    if descending is None or not _reads_only(statement, search.table):
        return None
    fts = index.fts
    rowid = fts.table.c.rowid

    def by_rowid(element: ExternallyTraversible, **_kw: Any) -> ExternallyTraversible | None:
        return rowid if _is_column(element, identifier) else None

    others = [
        replacement_traverse(condition, {}, by_rowid)
        for condition in statement._where_criteria
        if condition is not search
    ]
    driven = statement.join_from(search.table, fts.table, fts.joined)
    driven._where_criteria = (*others, index.matched, *index.unindexed)
    return driven.order_by(None).order_by(fts.descending if descending else fts.ascending)


def _reads_only(statement: Select[Any], searched: Table) -> bool:
    """Whether `searched` is the one table `statement` reads from (its columns and conditions;
    subqueries aside), found without compiling it (`get_final_froms` would, 0.8 ms)."""
    if statement._setup_joins or statement._from_obj:
        return False
    for element in (*statement._raw_columns, *statement._where_criteria):
        if any(table is not searched for table in element._from_objects):
            return False
    return True


def descending_on(clause: Any, column: Any) -> bool | None:
    """Whether `clause` orders by `column` descending (False: ascending); None when it orders
    by something else."""
    modifier = getattr(clause, "modifier", None)
    if modifier in (operators.asc_op, operators.desc_op):
        return modifier is operators.desc_op if _is_column(clause.element, column) else None
    return False if _is_column(clause, column) else None


def _is_column(element: Any, column: Any) -> bool:
    """Whether `element` is `column`, or a copy of it the ORM annotated."""
    return getattr(element, "table", None) is column.table and (
        getattr(element, "name", None) == column.name
    )


def plans_alike(statement: Select[Any]) -> bool:
    """Whether the best plan of `statement` is the same whatever its values: it has no
    conditions, or only searches walked along its order (`Scanned`), which no index answers,
    or asked of ranges of ids (`ranged_trigrams.RangedIds`), whose plan is that whatever the
    ranges: the conditions that say so (`planned_alike`)."""
    return all(
        getattr(condition, "planned_alike", False) for condition in statement._where_criteria
    )


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
