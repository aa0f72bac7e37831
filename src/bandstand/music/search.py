"""The one normal form of searchable text, used when songs and albums are written and when a
query is read, so that both sides of `search_text LIKE '%term%'` agree on every engine."""

from __future__ import annotations

import unicodedata


def normalize(text: str) -> str:
    """`text` without accents or case: NFKD, combining marks dropped, case-folded, whitespace
    collapsed to single spaces.

    Case folding can produce characters that decompose again (and `İ` folds to `i` plus a
    combining dot), so the decomposition runs once more after it; the result is a fixed point.
    """
    folded = _strip_marks(_strip_marks(text).casefold())
    return " ".join(folded.split())


def search_text(*parts: str) -> str:
    """The stored search key of a row: its normalised parts joined by a space.

    A song's is `search_text(title, artist)`, an album's the same.
    """
    return normalize(" ".join(parts))


def search_terms(query: str) -> list[str]:
    """The words of a search query in normal form; every one must occur in a matching row."""
    return normalize(query).split()


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))
