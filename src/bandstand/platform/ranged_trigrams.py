"""PostgreSQL's index of each row's trigrams by range of ids, for a page of a frequent term in
id order (`platform.text_index` keeps the plain trigram index, for counts and rare terms).

A term matched by one row in 25 is found within the first 1,300 rows of a list in id order, and
testing them row by row is most of the cost of such a page (measured at 100,000 songs, searching
`corazon`: 0.5 ms of PostgreSQL's CPU against 0.2 ms for the same page unsearched). GIN keeps
no order, so `pg_trgm`'s index would read every match before the first page (3,869, 8 ms).
This index keys each trigram of a row by the range of 1,024 ids the row is in
(`12:cor` for a row of ids 12,288 to 13,311 whose text holds "cor"): a page is asked of the
ranges it is expected to span, a few lookups of short posting lists, and a walk along the list
takes over from the end of those ranges, so the page is right however wrong the estimate was:

    id = ANY(ARRAY(SELECT id FROM (
        (SELECT id ... AND keys(id, text) && :ranges_of_gram_1 AND ...
         ORDER BY id LIMIT :rows)
        UNION ALL
        (SELECT id ... AND id >= :end ORDER BY id LIMIT :rows)) ORDER BY id LIMIT :rows))

The walk after `:end` reads up to its first match only, unless the ranges held too few.
Measured at 100,000 songs, signed in, searching `corazon`: the page's statement alone costs
PostgreSQL 0.33 ms of CPU against 0.51 ms walked; a search through the gateway under load, 0.39
against 0.60 ms.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import (
    DDL,
    BigInteger,
    ColumnElement,
    Index,
    Select,
    Table,
    Text,
    any_,
    bindparam,
    event,
    func,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

from bandstand.platform.text_index import Contains, descending_on

RANGE_BITS = 10
RANGE_IDS = 1 << RANGE_BITS
"""Ids per range: a page of a term in one row of 25 spans one or two."""
GRAMS = 3
"""Trigrams of the search a page asks the index for (the first, a middle and the last of its
terms' trigrams): more find hardly fewer candidates, each costs a lookup per range."""
MARGIN = 1.5
"""How much further than the matches' average spacing the ranges asked reach, so that a page
rarely has to walk past them."""
MOST_RANGES = 256
"""The most ranges a page asks for (262,144 ids: a page of a term matched by one row in 3,000);
past them it walks."""
FUNCTION = "id_range_trigrams"

_KEY = f"(id >> {RANGE_BITS})::text || ':' || substr(body, i, 3)"
_KEYS_OF = f"SELECT ARRAY(SELECT DISTINCT {_KEY} FROM generate_series(1, length(body) - 2) i)"  # noqa: S608 - constants
FUNCTION_DDL = (
    f"CREATE OR REPLACE FUNCTION {FUNCTION}(id bigint, body text) RETURNS text[]"
    f" LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ {_KEYS_OF} $$"
)
"""Every three characters of `body`, each behind the range of `id` (`0:cor`): the keys of
the index. An SQL function, so that the index and the statements name the same expression."""
DROP_FUNCTION_DDL = f"DROP FUNCTION IF EXISTS {FUNCTION}(bigint, text)"

_RANGED: set[tuple[str, str]] = set()
"""Each (table, column) with a ranged trigram index."""


def has_ranged_index(table: Table, column_name: str) -> bool:
    return (table.name, column_name) in _RANGED


def index_expression(column_name: str) -> str:
    return f"{FUNCTION}(id, {column_name})"


def ranged_trigram_index(name: str, column_name: str) -> Index:
    """For a model's `__table_args__`, beside its `text_index.trigram_index`: the ranged
    trigram index of `column_name` (PostgreSQL only; the table's key is `id`)."""
    index = Index(name, text(index_expression(column_name)), postgresql_using="gin").ddl_if(
        dialect="postgresql"
    )

    def attach(_index: Index, parent: Table) -> None:
        _RANGED.add((parent.name, column_name))
        create = DDL(FUNCTION_DDL)  # type: ignore[no-untyped-call]
        event.listen(parent, "before_create", create.execute_if(dialect="postgresql"))

    event.listen(index, "after_parent_attach", attach)
    return index


def grams_of(texts: Sequence[str]) -> tuple[str, ...]:
    """Up to `GRAMS` distinct trigrams of `texts` (the terms of a search, in normal form): the
    first, last and middle trigram of each term in turn."""
    picks: list[list[str]] = []
    for term in texts:
        grams = [term[n : n + 3] for n in range(len(term) - 2)]
        if grams:
            picks.append([grams[0], grams[-1], grams[len(grams) // 2]])
    chosen: list[str] = []
    for turn in range(3):
        for grams in picks:
            if grams[turn] not in chosen and len(chosen) < GRAMS:
                chosen.append(grams[turn])
    return tuple(chosen)


@dataclass(frozen=True)
class Span:
    """The lowest and highest id of a table (kept per write generation by the list)."""

    lowest: int
    highest: int

    @property
    def ids(self) -> int:
        """How many ids it spans: about how many rows the table holds."""
        return self.highest - self.lowest + 1


def range_values(
    grams: Sequence[str], matches: int, span: Span, wanted: int, after: int | None
) -> dict[str, Any]:
    """The values of a ranged statement's parameters for a page whose `wanted` rows (its
    offset, its rows and one more) follow `after` (None: the list's start), when `matches` of
    the table's rows within `span` match."""
    start = span.lowest if after is None else after + 1
    spacing = span.ids / max(matches, 1)
    reach = math.ceil(wanted * spacing * MARGIN)
    first = start >> RANGE_BITS
    last = min((start + reach) >> RANGE_BITS, first + MOST_RANGES - 1)
    ranges = range(first, last + 1)
    values: dict[str, Any] = {
        "ranged_after": start - 1,
        "ranged_end": (last + 1) << RANGE_BITS,
        "ranged_rows": wanted,
    }
    for n, gram in enumerate(grams):
        values[f"ranged_keys_{n}"] = [f"{number}:{gram}" for number in ranges]
    return values


def worth_ranging(matches: int, span: Span, wanted: int) -> bool:
    """Whether a page is expected to walk past more than one range of ids."""
    spacing = span.ids / max(matches, 1)
    return wanted * spacing > RANGE_IDS


class RangedIds(ColumnElement[bool]):
    """The condition of a ranged statement (`ranged`): the row's id is among the page's."""

    inherit_cache = True
    _is_implicitly_boolean = True
    planned_alike = True  # `text_index.plans_alike`: its plan is the same whatever the ranges
    _traverse_internals = [("condition", InternalTraversal.dp_clauseelement)]

    def __init__(self, condition: ColumnElement[bool]) -> None:
        self.condition = condition
        self.type = condition.type


@compiles(RangedIds)
def _compile_ranged_ids(element: RangedIds, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.condition, **kw))


S = TypeVar("S", bound=Select[Any])


def ranged(
    statement: S,
    search: ColumnElement[bool],
    scanned: ColumnElement[bool],
    column: ColumnElement[str],
    identifier: ColumnElement[int],
    grams: int,
) -> S:
    """`statement` (in ascending id order) with `search` (its condition on `column`) replaced by
    the ids of the page found range by range; `scanned` is the same condition tested on a row,
    and `grams` the number of trigrams asked of the index."""
    others = [condition for condition in statement._where_criteria if condition is not search]
    base = statement.with_only_columns(identifier, maintain_column_froms=True).order_by(None)
    base._where_criteria = (*others, scanned)
    rows = bindparam("ranged_rows", type_=BigInteger)
    end = bindparam("ranged_end", type_=BigInteger)
    after = identifier > bindparam("ranged_after", type_=BigInteger)
    keys = getattr(func, FUNCTION)(identifier, column, type_=ARRAY(Text))
    in_ranges = [
        keys.op("&&")(bindparam(f"ranged_keys_{n}", type_=ARRAY(Text))) for n in range(grams)
    ]
    # The ranges asked bound the first branch; a bound on its ids too would have a plan made
    # for any values (`plans_alike`) walk the ids between them instead of asking the index.
    near = base.where(after, *in_ranges)
    far = base.where(after, identifier >= end)
    both = union_all(
        near.order_by(identifier).limit(rows).correlate(None),
        far.order_by(identifier).limit(rows).correlate(None),
    ).subquery("ranged")
    page = select(both.c[0]).order_by(both.c[0]).limit(rows).correlate(None)
    ids = func.array(page.scalar_subquery(), type_=ARRAY(BigInteger))
    result = statement._generate()
    result._where_criteria = (*others, RangedIds(identifier == any_(ids)))
    return result


def ranged_page(
    statement: S, matches: int, span: Span, wanted: int, after: int | None
) -> tuple[S, dict[str, Any]] | None:
    """On PostgreSQL, `statement` reading the page of a frequent term asked of its column's
    ranged trigram index, with its parameters' values: `wanted`
    rows (the page's offset, its rows and one more) after the id `after` (None: from the
    start). None when the list is not in ascending id order, searches more than one column or
    one without that index, has no trigram to ask, or its page is found as soon by walking."""
    if statement in _RANGED_FORMS:
        known: tuple[S, tuple[str, ...]] | None = _RANGED_FORMS[statement]
    else:
        known = _RANGED_FORMS[statement] = _ranged_form(statement)
    if known is None or not worth_ranging(matches, span, wanted):
        return None
    form, grams = known
    return form, range_values(grams, matches, span, wanted, after)


_RANGED_FORMS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
"""The ranged form of each statement and the trigrams it asks for (or None), built once, as
`text_index` keeps each statement's walked form."""


def _ranged_form(statement: S) -> tuple[S, tuple[str, ...]] | None:
    searches = [c for c in statement._where_criteria if isinstance(c, Contains)]
    if len(searches) != 1 or not has_ranged_index(searches[0].table, searches[0].column.name):
        return None
    search = searches[0]
    identifier = search.table.c.get("id")
    order = statement._order_by_clauses
    if identifier is None or len(order) != 1 or descending_on(order[0], identifier) is not False:
        return None
    grams = grams_of(search.texts)
    if not grams:
        return None
    form = ranged(statement, search, search.scanned, search.column, identifier, len(grams))
    return form, grams
