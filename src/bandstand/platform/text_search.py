"""Searchable text: one normal form without accents or case, written beside the text when a row
is stored and applied to the query when it is read, so that both sides of
`key LIKE '%term%'` agree on every engine (SQLite's `lower()` folds ASCII only, and neither
engine drops accents by itself)."""

from __future__ import annotations

import unicodedata

from sqlalchemy import ColumnElement
from sqlalchemy.orm import InstrumentedAttribute


def normalize(text: str) -> str:
    """`text` without accents or case: NFKD, combining marks dropped, case-folded, whitespace
    collapsed to single spaces.

    Case folding can produce characters that decompose again (and `İ` folds to `i` plus a
    combining dot), so the decomposition runs once more after it; the result is a fixed point.
    """
    folded = _strip_marks(_strip_marks(text).casefold())
    return " ".join(folded.split())


def search_terms(query: str) -> list[str]:
    """The words of a search query in normal form."""
    return normalize(query).split()


def escape_like(text: str) -> str:
    """`text` as a literal inside a LIKE pattern whose escape character is a backslash."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains_phrase(column: InstrumentedAttribute[str], query: str) -> ColumnElement[bool]:
    """The normal form of `query`, as one piece, occurs in `column` (a stored normal form)."""
    return column.like(f"%{escape_like(normalize(query))}%", escape="\\")


def contains_words(column: InstrumentedAttribute[str], query: str) -> list[ColumnElement[bool]]:
    """Every word of `query` occurs in `column` (a stored normal form), in any order."""
    return [column.like(f"%{escape_like(term)}%", escape="\\") for term in search_terms(query)]


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))
