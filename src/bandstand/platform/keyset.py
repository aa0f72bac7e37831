"""Keyset cursors: where a list's next or previous page starts, by the values of its sort key.

A list's ordering is read from its statement's ORDER BY: each term a column (ascending or
descending, NULLs first or last, or the engine's default placement), the last one unique in the
list (a primary key or a unique column, or the last column of a primary key whose other columns
are earlier keys or constant in the list). A cursor names the row it follows (or precedes) by
those values, so a page at any depth reads `WHERE (keys) > (values) ORDER BY keys LIMIT n + 1`:
a range of the ordering's index, however far into the list.

On the wire a cursor is opaque: URL-safe base64 of JSON `{"o": ordering, "d": direction, "v":
values}`, each value tagged with its type. It is validated on the way in (its ordering must be
the list's, each value of its column's type, NULL only where the column allows it): anything
else is refused with a 400 naming the `cursor` field, never a server error.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import uuid
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Column, ColumnElement, Select, and_, false, inspect, or_
from sqlalchemy.orm.exc import UnmappedColumnError
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from bandstand.platform.errors import BadRequest

AFTER = "n"
BEFORE = "p"


class BadCursor(BadRequest):
    def __init__(self, reason: str) -> None:
        super().__init__(f"cursor: {reason}", extra={"cursor": [reason]})


@dataclass(frozen=True)
class SortKey:
    column: Column[Any]
    descending: bool
    nulls_first: bool
    """Where NULLs sort, made explicit for the engine (SQLite: lowest, PostgreSQL: highest)."""

    @property
    def nullable(self) -> bool:
        return bool(self.column.nullable)

    def reversed(self) -> SortKey:
        return SortKey(self.column, not self.descending, not self.nulls_first)

    def order(self) -> ColumnElement[Any]:
        term = self.column.desc() if self.descending else self.column.asc()
        if not self.nullable:
            return term
        return term.nulls_first() if self.nulls_first else term.nulls_last()

    def describe(self) -> str:
        return f"{self.column.table.name}.{self.column.name}{'-' if self.descending else '+'}"


@dataclass(frozen=True)
class Cursor:
    direction: str
    values: tuple[Any, ...]


class Ordering:
    """The sort keys of one list's statement."""

    def __init__(self, keys: Sequence[SortKey]) -> None:
        self.keys = tuple(keys)
        described = ",".join(key.describe() for key in self.keys)
        self.fingerprint = hashlib.sha256(described.encode()).hexdigest()[:12]

    @classmethod
    def of(cls, statement: Select[Any], dialect: str) -> Ordering | None:
        """The ordering of `statement`, or None when it cannot be paged by key (an ORDER BY on
        an expression, none at all, no unique last key, or a grouped or distinct statement).
        Read once per statement (a list's statements are kept built)."""
        known = _ORDERINGS.setdefault(statement, {})
        if dialect not in known:
            known[dialect] = cls._read(statement, dialect)
        return known[dialect]

    @classmethod
    def _read(cls, statement: Select[Any], dialect: str) -> Ordering | None:
        if statement._group_by_clauses or statement._distinct or statement._having_criteria:
            return None
        keys = []
        for clause in statement._order_by_clauses:
            key = _sort_key(clause, dialect)
            if key is None:
                return None
            keys.append(key)
        if not keys or not _unique_last(keys, statement):
            return None
        return cls(keys)

    def encode(self, direction: str, values: Sequence[Any]) -> str:
        body = {"o": self.fingerprint, "d": direction, "v": [_tag(value) for value in values]}
        raw = json.dumps(body, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    def decode(self, cursor: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            body = json.loads(raw)
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise BadCursor("not a cursor of this list") from None
        if not isinstance(body, dict) or body.get("o") != self.fingerprint:
            raise BadCursor("not a cursor of this list")
        direction, tagged = body.get("d"), body.get("v")
        if direction not in (AFTER, BEFORE) or not isinstance(tagged, list):
            raise BadCursor("not a cursor of this list")
        if len(tagged) != len(self.keys):
            raise BadCursor("not a cursor of this list")
        values = tuple(_untag(item, key) for item, key in zip(tagged, self.keys, strict=True))
        return Cursor(direction, values)

    def values_of(self, row: Any) -> tuple[Any, ...] | None:
        """The sort key of a row of the list (an ORM object or a result row), or None when a key
        is not among what the row holds."""
        values = []
        for key in self.keys:
            found, value = _value_in(row, key.column)
            if not found:
                return None
            values.append(value)
        return tuple(values)

    def seek(self, statement: Select[Any], cursor: Cursor) -> Select[Any]:
        """`statement` from just past the cursor's row in its direction, in that direction."""
        keys = self.keys if cursor.direction == AFTER else tuple(k.reversed() for k in self.keys)
        return (
            statement.where(_after(keys, cursor.values))
            .order_by(None)
            .order_by(*(key.order() for key in keys))
        )


_ORDERINGS: weakref.WeakKeyDictionary[Select[Any], dict[str, Ordering | None]] = (
    weakref.WeakKeyDictionary()
)


def _sort_key(clause: Any, dialect: str) -> SortKey | None:
    nulls: bool | None = None
    if isinstance(clause, UnaryExpression) and clause.modifier in (
        operators.nulls_first_op,
        operators.nulls_last_op,
    ):
        nulls = clause.modifier is operators.nulls_first_op
        clause = clause.element
    descending = False
    if isinstance(clause, UnaryExpression) and clause.modifier in (
        operators.desc_op,
        operators.asc_op,
    ):
        descending = clause.modifier is operators.desc_op
        clause = clause.element
    if not isinstance(clause, Column) or clause.table is None:
        return None
    if nulls is None:
        # The engine's own placement: SQLite holds NULL lowest, PostgreSQL highest.
        nulls = descending if dialect == "postgresql" else not descending
    return SortKey(clause, descending, nulls)


def _unique_last(keys: Sequence[SortKey], statement: Select[Any]) -> bool:
    last = keys[-1].column
    if last.unique or any(
        index.unique and [c.name for c in index.columns] == [last.name]
        for index in getattr(last.table, "indexes", ())
    ):
        return True
    if not last.primary_key:
        return False
    fixed = {key.column.name for key in keys} | _constant_columns(statement, last.table)
    return all(column.name in fixed for column in last.table.primary_key.columns)


def _constant_columns(statement: Select[Any], table: Any) -> set[str]:
    """The columns of `table` the statement's WHERE holds equal to one value."""
    constant = set()
    for criterion in statement._where_criteria:
        left = getattr(criterion, "left", None)
        equal = getattr(criterion, "operator", None) is operators.eq
        if equal and isinstance(left, Column) and left.table is table:
            constant.add(left.name)
    return constant


def _after(keys: Sequence[SortKey], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after `values` in the order of `keys`, led by the first key's bound (not
    past the cursor's value) where that is a plain range, so that the engines read a range of
    the ordering's index instead of filtering it from its start."""
    key, value = keys[0], values[0]
    condition = _strictly_after(keys, values)
    if len(keys) > 1 and value is not None and not (key.nullable and not key.nulls_first):
        bound = key.column <= value if key.descending else key.column >= value
        return and_(bound, condition)
    return condition


def _strictly_after(keys: Sequence[SortKey], values: Sequence[Any]) -> ColumnElement[bool]:
    key, value, rest = keys[0], values[0], keys[1:]
    past = _past(key, value)
    if not rest:
        return past
    same = key.column.is_(None) if value is None else key.column == value
    return or_(past, and_(same, _strictly_after(rest, values[1:])))


def _past(key: SortKey, value: Any) -> ColumnElement[bool]:
    column = key.column
    if value is None:
        # Every NULL ties with the cursor's: past it are the non-NULLs if NULLs come first.
        return column.is_not(None) if key.nulls_first else false()
    beyond: ColumnElement[bool] = column < value if key.descending else column > value
    if key.nullable and not key.nulls_first:
        return or_(beyond, column.is_(None))
    return beyond


def _value_in(row: Any, column: Column[Any]) -> tuple[bool, Any]:
    candidates = [row]
    mapping = getattr(row, "_mapping", None)
    if mapping is not None:
        if column in mapping:
            return True, mapping[column]
        candidates = list(row)
    for candidate in candidates:
        mapper = getattr(inspect(candidate, raiseerr=False), "mapper", None)
        if mapper is None:
            continue
        try:
            prop = mapper.get_property_by_column(column)
        except UnmappedColumnError:
            continue
        return True, getattr(candidate, prop.key)
    return False, None


_TAGS: tuple[tuple[str, type], ...] = (
    ("b", bool),
    ("i", int),
    ("f", float),
    ("D", Decimal),
    ("t", dt.datetime),
    ("d", dt.date),
    ("u", uuid.UUID),
    ("s", str),
)


def _tag(value: Any) -> Any:
    if value is None:
        return None
    for tag, kind in _TAGS:
        if isinstance(value, kind):
            if tag in ("b", "i", "s"):
                return [tag, value]
            if tag == "f":
                return [tag, repr(value)]
            if isinstance(value, dt.date):
                return [tag, value.isoformat()]
            return [tag, str(value)]
    raise TypeError(f"cannot put a {type(value).__name__} in a cursor")


def _untag(item: Any, key: SortKey) -> Any:
    if item is None:
        if not key.nullable:
            raise BadCursor("not a cursor of this list")
        return None
    if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)):
        raise BadCursor("not a cursor of this list")
    tag, payload = item
    try:
        value = _parse(tag, payload)
    except (ValueError, TypeError, InvalidOperation):
        raise BadCursor("not a cursor of this list") from None
    if not _fits(value, key.column):
        raise BadCursor("not a cursor of this list")
    return _as_stored(value, key.column)


def _parse(tag: str, payload: Any) -> Any:
    if tag == "b" and isinstance(payload, bool):
        return payload
    if tag == "i" and isinstance(payload, int) and not isinstance(payload, bool):
        if not -(2**63) <= payload < 2**63:
            raise ValueError("out of range")
        return payload
    if tag == "s" and isinstance(payload, str):
        return payload
    if not isinstance(payload, str):
        raise TypeError(tag)
    if tag == "f":
        return float(payload)
    if tag == "D":
        parsed = Decimal(payload)
        if not parsed.is_finite():
            raise ValueError("not finite")
        return parsed
    if tag == "t":
        return dt.datetime.fromisoformat(payload)
    if tag == "d":
        return dt.date.fromisoformat(payload)
    if tag == "u":
        return uuid.UUID(payload)
    raise ValueError(tag)


_INTEGER_BITS = {"SmallInteger": 16, "Integer": 32, "BigInteger": 64}


def _fits(value: Any, column: Column[Any]) -> bool:
    """Whether the engines can compare `value` with `column` (a value they would refuse, such
    as an integer past the column's size or a NUL in a string, is a bad cursor, not a 500)."""
    try:
        expected = column.type.python_type
    except NotImplementedError:
        return True
    if isinstance(value, str) and "\x00" in value:
        return False
    if isinstance(value, Decimal) and (
        len(value.as_tuple().digits) > 60 or abs(value.adjusted()) > 60
    ):
        return False
    if expected is dt.date:
        return type(value) is dt.date
    if expected is float and isinstance(value, int | Decimal) and not isinstance(value, bool):
        return True
    if expected is int:
        if not isinstance(value, int) or isinstance(value, bool):
            return False
        bits = next(
            (n for kind in type(column.type).__mro__ if (n := _INTEGER_BITS.get(kind.__name__))),
            64,
        )
        return bool(-(2 ** (bits - 1)) <= value < 2 ** (bits - 1))
    return isinstance(value, expected)


def _as_stored(value: Any, column: Column[Any]) -> Any:
    """A time as its column holds it: with a time zone (UTC when the cursor had none) or
    without one (in UTC), so that PostgreSQL compares it instead of refusing it."""
    if not isinstance(value, dt.datetime):
        return value
    if getattr(column.type, "timezone", False):
        return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    if value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value
