"""Music's searchable text, in the platform's one normal form (`platform.text_search`): written
when songs and albums are stored and applied to a query when it is read, so that both sides of
`search_text LIKE '%term%'` agree on every engine."""

from __future__ import annotations

from bandstand.platform.text_search import normalize, search_terms

__all__ = ["normalize", "search_terms", "search_text"]


def search_text(*parts: str) -> str:
    """The stored search key of a row: its normalised parts joined by a space.

    A song's is `search_text(title, artist)`, an album's the same.
    """
    return normalize(" ".join(parts))
