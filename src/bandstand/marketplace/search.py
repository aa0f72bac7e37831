"""Full-text matching behind one interface, one implementation per dialect.

A query is read as words (`text.words`: folded, letters and digits); a listing matches when
every word of the query starts one of the words of its name, in any order. SQLite answers it
from the FTS5 table (`"word"*` prefix queries, implicitly AND-ed); PostgreSQL from the GIN index
over `to_tsvector('simple', search_text)` (`word:* & ...`). Both index the same folded words, so
both find the same listings.

Relevance is computed the same way on both engines, so results come in the same order too:
listings where more query words are whole words of the name come first, then shorter names
(the words are more of what the listing is), then the lower id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Integer, case, func, literal, literal_column, select, true
from sqlalchemy.orm import InstrumentedAttribute

from bandstand.marketplace.models import FTS_TABLE, Instrument, instruments_fts

OrderTerm = ColumnElement[Any] | InstrumentedAttribute[Any]
"""One ORDER BY term."""


class SearchBackend(Protocol):
    def matches(self, words: Sequence[str]) -> ColumnElement[bool]:
        """A condition on `instruments` true for the listings matching every word."""
        ...


class SQLiteSearch:
    def matches(self, words: Sequence[str]) -> ColumnElement[bool]:
        if not words:
            return true()
        # Words are letters and digits only: quoting them is enough to keep FTS5 syntax out.
        query = " ".join(f'"{word}"*' for word in words)
        fts = instruments_fts.c[FTS_TABLE]
        matching = select(instruments_fts.c.rowid).where(fts.match(query))
        return Instrument.id.in_(matching)


class PostgresSearch:
    def matches(self, words: Sequence[str]) -> ColumnElement[bool]:
        if not words:
            return true()
        query = " & ".join(f"{word}:*" for word in words)
        # The very expression of the GIN index (a constant configuration), so the planner uses it.
        vector = func.to_tsvector(_SIMPLE, Instrument.search_text)
        tsquery = func.to_tsquery(_SIMPLE, literal(query))
        return vector.op("@@")(tsquery)


_SIMPLE: ColumnElement[Any] = literal_column("'simple'::regconfig")


def backend(dialect: str) -> SearchBackend:
    return SQLiteSearch() if dialect == "sqlite" else PostgresSearch()


def relevance(words: Sequence[str]) -> list[OrderTerm]:
    """ORDER BY terms of the relevance order (the same SQL on both engines)."""
    padded = literal(" ") + Instrument.search_text + literal(" ")
    whole = [
        case((padded.like(literal(f"% {word} %")), 1), else_=0).cast(Integer) for word in words
    ]
    score = sum(whole[1:], whole[0]) if whole else literal(0)
    return [score.desc(), func.length(Instrument.search_text), Instrument.id]
