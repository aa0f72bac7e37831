"""Searchable text: one normal form without accents or case, written beside the text when a row
is stored and applied to the query when it is read, so that both sides of
`key LIKE '%term%'` (or of a full-text match) agree on every engine (SQLite's `lower()` folds
ASCII only, PostgreSQL's `unaccent` is not the same table as FTS5's `remove_diacritics`, and
neither engine drops accents by itself). Every service folds with `fold` and `normalize`; a
stored normal form of one database is the same whichever service code wrote it."""

from __future__ import annotations

import functools
import sys
import unicodedata

from sqlalchemy import ColumnElement
from sqlalchemy.orm import InstrumentedAttribute

from bandstand.platform.text_index import Contains, fts_phrase


def fold(text: str) -> str:
    """`text` without accents or case: NFKD, combining marks dropped, case-folded.

    Case folding can produce characters that decompose again (and `İ` folds to `i` plus a
    combining dot), so the decomposition runs once more after it; the result is a fixed point.
    """
    if text.isascii():
        return text.lower()  # the same thing, much faster (an import folds millions of names)
    return _strip_marks(_strip_marks(text).casefold())


def normalize(text: str) -> str:
    """`text` folded (`fold`), whitespace collapsed to single spaces."""
    return " ".join(fold(text).split())


def search_terms(query: str) -> list[str]:
    """The words of a search query in normal form."""
    return normalize(query).split()


def escape_like(text: str) -> str:
    """`text` as a literal inside a LIKE pattern whose escape character is a backslash."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


TRIGRAM = 3
"""The shortest text a trigram index can find."""


def contains(column: InstrumentedAttribute[str], *texts: str) -> ColumnElement[bool]:
    """Each of `texts` (in normal form) occurs in `column` (a stored normal form), through the
    column's trigram index where it has one (`platform.text_index`)."""
    likes = [f"%{escape_like(text)}%" for text in texts]
    # A NUL would end the phrase early, where SQLite reads it as a C string.
    phrases = [
        fts_phrase(text) if len(text) >= TRIGRAM and "\x00" not in text else None for text in texts
    ]
    return Contains(column, texts, likes, phrases)


def contains_phrase(column: InstrumentedAttribute[str], query: str) -> ColumnElement[bool]:
    """The normal form of `query`, as one piece, occurs in `column` (a stored normal form)."""
    return contains(column, normalize(query))


def contains_words(column: InstrumentedAttribute[str], query: str) -> list[ColumnElement[bool]]:
    """Every word of `query` occurs in `column` (a stored normal form), in any order (no
    condition for a query without words)."""
    terms = search_terms(query)
    return [contains(column, *terms)] if terms else []


@functools.cache
def _combining_marks() -> dict[int, None]:
    """A `str.translate` table deleting every combining character (built once, on first use)."""
    return {code: None for code in range(sys.maxunicode + 1) if unicodedata.combining(chr(code))}


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    if decomposed.isascii():
        return decomposed
    return decomposed.translate(_combining_marks())
