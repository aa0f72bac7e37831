"""The marketplace's searchable words and filter keys, in the kernel's normal form
(`platform.text_search`), applied in Python when a listing is written and when a query is read,
so that SQLite's FTS5 and PostgreSQL index and match exactly the same words.
"""

from __future__ import annotations

import functools
import re

from bandstand.platform.text_search import fold, normalize

_WORD = re.compile(r"[^\W_]+")


@functools.lru_cache(maxsize=8192)
def key(text: str | None) -> str | None:
    """The form a filtered field is compared in (case- and accent-insensitive, exact otherwise);
    whitespace runs collapse to one space."""
    if text is None:
        return None
    return normalize(text)


def words(text: str) -> list[str]:
    """The searchable words of `text`: runs of letters and digits of its folded form."""
    return _WORD.findall(fold(text))


def search_text(name: str) -> str:
    """The stored search key of a listing: the words of its name, separated by one space."""
    return " ".join(words(name))
