"""The SQL that writes a row's fields as JSON text, the same bytes as the service's response
model writes them with pydantic (`JsonField.kind`): field by field (`sqlite_value`,
`postgres_value`), as one object (`sqlite_object`, `postgres_object`), or as pieces of text
(`pairs_pieces`) that `concat` joins with `||`, adjacent literals written as one. Used by the
pages the database writes (`platform.json_pages`, `platform.json_rows`) and by the runs of fields
a table keeps as text (`platform.kept_json`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Kind = Literal["value", "int", "money", "utc", "bool", "json"]
"""How a column is written: as it is (text, numbers, dates as YYYY-MM-DD, null), as an integer
(a value known to be one, written as its digits: PostgreSQL's `to_json` looks its type up on
every call), as money (a decimal string with two places, `schemas.MoneyText`), as a UTC moment
(ISO 8601 with `Z`, microseconds only when there are any: pydantic's way), as a boolean (SQLite
keeps 0 and 1), or as the JSON text the column holds already, which the statement wrote compact
(an aggregate's array of names: SQLite's `json_group_array`, PostgreSQL's text cast to `json`,
which keeps it)."""


@dataclass(frozen=True)
class JsonField:
    name: str
    kind: Kind = "value"


def sqlite_value(field: JsonField, column: str) -> str:
    """The SQL of SQLite's JSON value of `field`, read from the SQL expression `column`."""
    if field.kind == "bool":
        return (
            f"CASE WHEN {column} IS NULL THEN NULL WHEN {column} THEN json('true') "
            "ELSE json('false') END"
        )
    if field.kind == "money":
        return f"CASE WHEN {column} IS NULL THEN NULL ELSE printf('%.2f', {column}) END"
    if field.kind == "json":
        return f"json({column})"
    if field.kind == "utc":
        # Stored as SQLAlchemy writes it: 'YYYY-MM-DD HH:MM:SS.ffffff', naive UTC; that form
        # first (a third of the cost of the general one), its zero microseconds left out.
        fraction = f"substr({column}, 21, 6)"
        return (
            f"CASE WHEN length({column}) = 26 THEN replace(CASE WHEN {column} LIKE '%.000000' "
            f"THEN substr({column}, 1, 19) ELSE {column} END, ' ', 'T') || 'Z' "
            f"WHEN {column} IS NULL THEN NULL ELSE substr({column}, 1, 10) || 'T' || "
            f"substr({column}, 12, 8) || CASE WHEN {fraction} IN ('', '000000') THEN 'Z' "
            f"ELSE '.' || {fraction} || 'Z' END END"
        )
    return column


def postgres_value(field: JsonField, column: str) -> str:
    """The SQL of the value PostgreSQL writes to JSON for `field`, read from `column`."""
    if field.kind == "money":
        return f"CAST({column} AS TEXT)"  # NUMERIC(p, 2): always its two places
    if field.kind == "utc":
        utc = f"({column} AT TIME ZONE 'UTC')"
        return (
            f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN "
            f"date_trunc('second', {column}) = {column} THEN 'Z' ELSE to_char({utc}, '.US') "
            "|| 'Z' END"
        )
    return column


def sqlite_object(members: Sequence[tuple[JsonField, str]]) -> str:
    """SQLite's JSON object of each field read from its column's SQL, in their order."""
    pairs = ", ".join(
        f"'{identifier(field.name)}', {sqlite_value(field, column)}" for field, column in members
    )
    return f"json_object({pairs})"


def postgres_object(members: Sequence[tuple[JsonField, str]]) -> str:
    """PostgreSQL's text of the JSON object of each field read from its column's SQL. Written
    out by hand, not by json_build_object: its text has a space around each colon, and the body
    is to be the same bytes on both engines."""
    return concat([SqlText("{"), *pairs_pieces(members, "postgresql"), SqlText("}")])


class SqlText(str):
    """A piece of text that `concat` writes as it is: an SQL string literal."""

    __slots__ = ()


def concat(pieces: Sequence[str]) -> str:
    """The SQL joining `pieces` (SQL expressions, or `SqlText`) with `||`, adjacent texts
    written as one literal: each `||` copies all the text before it (on SQLite, a page of 50
    objects was 9 µs quicker with its objects' literals joined)."""
    parts: list[str] = []
    texts: list[str] = []
    for piece in pieces:
        if isinstance(piece, SqlText):
            texts.append(piece)
            continue
        if texts:
            parts.append(_literal("".join(texts)))
            texts = []
        parts.append(piece)
    if texts:
        parts.append(_literal("".join(texts)))
    return " || ".join(parts)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def pairs_pieces(members: Sequence[tuple[JsonField, str]], dialect: str) -> list[str]:
    """The pieces (`concat`) of the text `"name":value,...` of each field read from its
    column's SQL, the same bytes as the members of `sqlite_object` or `postgres_object` (an
    object without its braces)."""
    pieces: list[str] = []
    for field, column in members:
        if pieces:
            pieces.append(SqlText(","))
        pieces += [SqlText(f'"{identifier(field.name)}":'), _value_text(field, column, dialect)]
    return pieces


def pairs_text(members: Sequence[tuple[JsonField, str]], dialect: str) -> str:
    """The SQL of `pairs_pieces`, to be joined with other text."""
    return concat(pairs_pieces(members, dialect))


def _value_text(field: JsonField, column: str, dialect: str) -> str:
    if field.kind == "json" or (field.kind == "int" and dialect == "postgresql"):
        return f"coalesce(CAST({column} AS TEXT), 'null')"
    if field.kind == "bool":
        return f"CASE WHEN {column} IS NULL THEN 'null' WHEN {column} THEN 'true' ELSE 'false' END"
    if dialect == "postgresql":
        return f"coalesce(to_json({postgres_value(field, column)})::text, 'null')"
    return f"json_quote({sqlite_value(field, column)})"  # json_quote(NULL) is 'null'


def identifier(name: str) -> str:
    """`name`, refused (ValueError) unless it is a plain identifier, safe inside SQL."""
    if not name.replace("_", "").isalnum() or not name.isascii():
        raise ValueError(f"not an identifier: {name!r}")
    return name
