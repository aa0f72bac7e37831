"""A derived search index over folded words: every prefix of every word is a term, so a query
word matches when it starts a word of the document, and a query is a handful of term lookups
however common its prefixes are (tantivy, embedded; bm25 over those terms ranks the matches).

The database stays the record: an index is built from it and kept current by its owner (a
service), and can be thrown away and rebuilt at any time. Each index lives in a slot directory
under the service's data directory, `<root>/slot-<n>`, held by one process at a time through a
lock on `slot-<n>/lock`: two processes sharing a data directory each keep their own slot, and a
restarted process takes a free slot back with what it had indexed (`state`, the owner's
watermark, is saved beside the index after each commit).

Documents have an id, words (already folded: `text_search.fold`), exact keys compared as they
are (folded by the owner too) and integers (prices in cents, days) filtered by ranges; a missing
key or integer matches no filter on it, like NULL in SQL. An index may also keep the JSON object
a page shows of each document (`IndexFields.shown`, in `platform.shown_store`): `search_shown`
gives a page of those objects, read without the record's database.

Relevance is bm25 over the one field of prefix terms, where a whole word is counted once more
than the prefixes it shares: "guitar" ranks a guitar above a guitarra, and among equals the
shortest name first. A query is then one term per query word (a single word: a single term
query, which tantivy answers from its block maxima and document frequencies rather than by
scoring every match), and filters only where they are asked for.

Calls are blocking; tantivy releases the GIL while it searches, so a search may run in a thread
beside the event loop. Run writes in a thread too.

An idle index costs little: its writer (indexing and merging threads, and the heap a write fills)
is opened by the first write after a commit and released by the commit, after its merges (what
it freed is handed back to the system), and
the reader is reloaded by the commit only (no thread watching the directory): a slot is written
by the process that holds it alone. tantivy itself is imported by the first index opened, not
by a process that only imports this module (a worker, or a service with its index off).
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from bandstand.platform.shown_store import ShownStore

if TYPE_CHECKING:
    import tantivy

MAX_SLOTS = 16
TIE_WINDOW = 50
"""Hits past a relevance page also ranked, so that equal scores at its edge are ordered by id."""
WRITER_HEAP = 64 * 1024 * 1024
BUILD_HEAP = 512 * 1024 * 1024
"""A rebuild's writer: a million listings fit in one segment, which a search visits once (four
segments, as `WRITER_HEAP` writes them, cost 15% more a search). Memory is taken as it fills."""
SHOWN_FILE = "shown.sqlite3"
_ID = "id"
_WORDS = "words"


@dataclass(frozen=True)
class IndexFields:
    """The filterable fields of an index besides its id and words, and whether it keeps the
    JSON object a page shows of each document."""

    keys: tuple[str, ...] = ()
    integers: tuple[str, ...] = ()
    shown: bool = False


@dataclass(frozen=True)
class IndexedDocument:
    id: int
    words: Sequence[str]
    keys: Mapping[str, str | None] = field(default_factory=dict)
    integers: Mapping[str, int | None] = field(default_factory=dict)
    shown: str = ""
    """The JSON object a page shows of it, kept when the index's fields say so."""


@dataclass(frozen=True)
class IndexQuery:
    """Every word must start a word of the document; keys must be equal; integers within their
    inclusive bounds (None: unbounded). `relevance` is bm25 over the prefix terms (equal
    scores by ascending id); `id` is ascending id."""

    words: Sequence[str]
    keys: Mapping[str, str] = field(default_factory=dict)
    ranges: Mapping[str, tuple[int | None, int | None]] = field(default_factory=dict)
    order: Literal["relevance", "id"] = "relevance"
    offset: int = 0
    limit: int = 50


def prefix_terms(words: Iterable[str]) -> str:
    """Every prefix of every word, separated by spaces (the whitespace tokenizer's input)."""
    return " ".join(word[:end] for word in words for end in range(1, len(word) + 1))


class PrefixIndex:
    """One slot: a tantivy index, its writer, and the owner's saved state."""

    def __init__(self, slot: Path, lock: IO[str], fields: IndexFields, version: int) -> None:
        import tantivy

        self.slot = slot
        self.fields = fields
        self.version = version
        self._lock = lock
        self._schema = _schema(fields)
        meta = _read_meta(slot / "meta.json")
        self.built = meta.get("version") == version and bool(meta.get("built"))
        self.state: dict[str, Any] = dict(meta.get("state") or {}) if self.built else {}
        directory = slot / "index"
        if not self.built:
            shutil.rmtree(directory, ignore_errors=True)
            ShownStore.remove(slot / SHOWN_FILE)
        directory.mkdir(parents=True, exist_ok=True)
        self._index = tantivy.Index(self._schema, path=str(directory), reuse=self.built)
        self._index.config_reader("manual")
        self._writer: tantivy.IndexWriter | None = None
        self._searcher = self._index.searcher()
        self.shown = ShownStore(slot / SHOWN_FILE) if fields.shown else None

    @classmethod
    def open(
        cls, root: Path, fields: IndexFields, version: int, *, existing: bool = False
    ) -> PrefixIndex | None:
        """The first slot under `root` no other process holds (with `existing`, only a slot
        that has an index already); None when there is none."""
        root.mkdir(parents=True, exist_ok=True)
        for number in range(MAX_SLOTS):
            slot = root / f"slot-{number}"
            if existing and not (slot / "index").is_dir():
                continue
            slot.mkdir(exist_ok=True)
            lock = (slot / "lock").open("a")
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                lock.close()
                continue
            try:
                return cls(slot, lock, fields, version)
            except BaseException:
                lock.close()
                raise
        return None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._release_writer()
        if self.shown is not None:
            with contextlib.suppress(Exception):
                self.shown.close()
        self._lock.close()

    @property
    def writing(self) -> bool:
        """Whether a writer is open: between a write and the commit (or rollback)."""
        return self._writer is not None

    def _writing(self, heap: int = WRITER_HEAP) -> tantivy.IndexWriter:
        if self._writer is None:
            self._writer = self._index.writer(heap, 1)
        return self._writer

    def _release_writer(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.wait_merging_threads()
            _return_freed_memory()

    def add(self, documents: Sequence[IndexedDocument], *, replace: bool = True) -> None:
        """Add `documents`, replacing any with the same id (visible after `commit`); without
        `replace` the caller knows none is indexed yet (a build: a delete per document is
        queued in memory until the commit)."""
        if not documents:
            return
        writer = self._writing()
        for document in documents:
            if replace:
                writer.delete_documents_by_term(_ID, document.id)
            writer.add_document(self._document(document))
        if self.shown is not None:
            self.shown.put((document.id, document.shown) for document in documents)

    def delete(self, ids: Iterable[int]) -> None:
        ids = list(ids)
        for document_id in ids:
            self._writing().delete_documents_by_term(_ID, document_id)
        if self.shown is not None:
            self.shown.delete(ids)

    def delete_where(self, name: str, low: int | None, high: int | None) -> None:
        """Remove the documents whose integer `name` is within [low, high] (visible after
        `commit`)."""
        import tantivy

        integer = tantivy.FieldType.Integer
        bounded = tantivy.Query.range_query(self._schema, name, integer, low, high)
        self._writing().delete_documents_by_query(bounded)

    def clear(self) -> None:
        """Remove every document (a rebuild adds them again, through a writer of `BUILD_HEAP`);
        searches see the old index until the commit."""
        self._writing(BUILD_HEAP).delete_all_documents()
        if self.shown is not None:
            self.shown.clear()

    def commit(self, state: Mapping[str, Any]) -> None:
        """Make what was added and deleted visible; save the owner's `state` with it. The writer
        is released (a commit with nothing written opens none)."""
        if self.shown is not None:
            self.shown.commit()  # first: the store is never behind the index
        if self._writer is not None:
            self._writer.commit()
            self._release_writer()
            self._index.reload()
            self._searcher = self._index.searcher()
        self.built = True
        self.state = dict(state)
        meta = {"version": self.version, "built": True, "state": self.state}
        temporary = self.slot / "meta.json.tmp"
        temporary.write_text(json.dumps(meta))
        os.replace(temporary, self.slot / "meta.json")

    def rollback(self) -> None:
        if self.shown is not None:
            self.shown.rollback()
        if self._writer is not None:
            self._writer.rollback()
            self._release_writer()

    def search_shown(self, query: IndexQuery, cut: str = "") -> tuple[int, list[int], str | None]:
        """The number of matches, the ids of the page `query` asks for and the JSON array of
        their objects (`ShownStore.page`: each cut before the key `cut` when given; None when
        the store lacks one). An index whose fields keep them."""
        if self.shown is None:
            raise ValueError("this index keeps no objects of its documents")
        count, ids = self.search(query)
        return count, ids, self.shown.page(ids, cut)

    def search(self, query: IndexQuery) -> tuple[int, list[int]]:
        """The number of matches and the ids of the page `query` asks for."""
        import tantivy

        matching = self._query(query)
        if matching is None:
            return 0, []
        searcher = self._searcher
        limit = max(query.limit, 1)
        if query.order == "id":
            result = searcher.search(
                matching,
                limit,
                count=True,
                order_by_field=_ID,
                order=tantivy.Order.Asc,
                offset=query.offset,
            )
            ids = [int(key) for key, _ in result.hits]
        else:
            # Equal scores are ordered by id, so a page does not depend on the order documents
            # were (re)indexed in: the hits before the page, and a window past it for ties at
            # its edge, are ranked here.
            wanted = query.offset + limit + TIE_WINDOW
            result = searcher.search(matching, wanted, count=True)
            hits = result.hits  # a new list of new tuples each time it is asked for
            values = searcher.fast_field_values(_ID, [address for _, address in hits])
            found = [int(value or 0) for value in values]
            ranked = sorted(zip([-score for score, _ in hits], found, strict=True))
            ids = [ident for _, ident in ranked[query.offset : query.offset + limit]]
        count: Any = getattr(result, "count", 0)  # the stubs do not declare it
        return int(count), ids[: query.limit]

    def _query(self, query: IndexQuery) -> tantivy.Query | None:
        """The tantivy query of `query`; None when nothing can match (an empty range)."""
        import tantivy

        schema = self._schema
        must = tantivy.Occur.Must
        parts = [(must, tantivy.Query.term_query(schema, _WORDS, word)) for word in query.words]
        for name, value in query.keys.items():
            parts.append((must, tantivy.Query.term_query(schema, name, value)))
        for name, (low, high) in query.ranges.items():
            if low is None and high is None:
                continue
            if low is not None and high is not None and low > high:
                return None
            ranged = tantivy.Query.range_query(schema, name, tantivy.FieldType.Integer, low, high)
            parts.append((must, ranged))
        if not parts:
            return tantivy.Query.all_query()
        if len(parts) == 1:
            return parts[0][1]
        return tantivy.Query.boolean_query(parts)

    def documents(self) -> int:
        return int(self._searcher.num_docs)

    def _document(self, document: IndexedDocument) -> tantivy.Document:
        import tantivy

        # Each whole word once more than its prefixes (the module's docstring says why).
        words = f"{prefix_terms(document.words)} {' '.join(document.words)}"
        values: dict[str, Any] = {_ID: document.id, _WORDS: words}
        for name in self.fields.keys:
            key = document.keys.get(name)
            if key is not None:
                values[name] = key
        for name in self.fields.integers:
            number = document.integers.get(name)
            if number is not None:
                values[name] = number
        return tantivy.Document.from_dict(values, self._schema)


def _schema(fields: IndexFields) -> tantivy.Schema:
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_integer_field(_ID, indexed=True, fast=True)  # deleted by term: a signed one
    builder.add_text_field(_WORDS, tokenizer_name="whitespace", index_option="freq")
    for name in fields.keys:
        builder.add_text_field(name, tokenizer_name="raw", index_option="basic")
    for name in fields.integers:
        builder.add_integer_field(name, indexed=True, fast=True)
    return builder.build()


def _return_freed_memory() -> None:
    """Hand the pages a released writer freed back to the system: glibc's malloc keeps them
    otherwise (megabytes after a first build, tens of them after a large one). Nothing where the
    C library has no `malloc_trim`."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}
