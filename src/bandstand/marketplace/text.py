"""The one normal form of searchable and comparable text, applied in Python when a listing is
written and when a query is read, so that every engine compares exactly the same strings.

Accents and case are removed here rather than by the database (SQLite's `lower()` folds ASCII
only, PostgreSQL's `unaccent` is not the same table as FTS5's `remove_diacritics`): both engines
then index and match the same words, and give the same results for the same data.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata

_WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """`text` without accents or case: NFKD, combining marks dropped, case-folded (twice, as
    folding can produce characters that decompose again)."""
    if text.isascii():
        return text.lower()  # the same thing, much faster (an import folds millions of names)
    return _strip_marks(_strip_marks(text).casefold())


@functools.lru_cache(maxsize=8192)
def key(text: str | None) -> str | None:
    """The form a filtered field is compared in (case- and accent-insensitive, exact otherwise);
    whitespace runs collapse to one space."""
    if text is None:
        return None
    return " ".join(fold(text).split())


def words(text: str) -> list[str]:
    """The searchable words of `text`: runs of letters and digits of its folded form."""
    return _WORD.findall(fold(text))


def search_text(name: str) -> str:
    """The stored search key of a listing: the words of its name, separated by one space."""
    return " ".join(words(name))


@functools.cache
def _combining_marks() -> dict[int, None]:
    """A `str.translate` table deleting every combining character (built once, on first use)."""
    return {code: None for code in range(sys.maxunicode + 1) if unicodedata.combining(chr(code))}


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    if decomposed.isascii():
        return decomposed
    return decomposed.translate(_combining_marks())
