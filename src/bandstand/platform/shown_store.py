"""What a page shows of each document of a search index, kept beside it: the JSON object its
owner wrote for the document (the record's database writes it, as a page read from it would
be), in an SQLite file of the index's slot, so a search's page is read without the record.

Reading 50 objects by id here costs a third of what writing them from the record's rows costs
SQLite, and none of a database server's time. tantivy's own store was measured too: its reads
hold the GIL (9 µs a document), which halved the searches a second.

The index's writer writes the store in one transaction, committed just before the index's own
commit: a crash between the two leaves the store ahead of the index, which its owner's catch-up
brings level. A page whose ids are not all in the store is not answered here (`page` gives
None), so its owner reads it from the record. Documents removed from the index by a filter
(`PrefixIndex.delete_where`) stay in the store, unread, until the next rebuild.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

from bandstand.platform.sqlite_driver import open_reader

logger = logging.getLogger(__name__)

WAL_KEPT = 64 * 1024 * 1024
"""The write-ahead log is cut back to this size after a checkpoint (a rebuild writes it all)."""
_PAGE = (
    "SELECT count(item), '[' || coalesce(group_concat(item, ','), '') || ']' FROM ("
    "SELECT CASE WHEN :cut = '' THEN s.shown WHEN instr(s.shown, :cut) > 0 "
    "THEN substr(s.shown, 1, instr(s.shown, :cut) - 1) || '}' END AS item "
    "FROM json_each(:ids) AS e JOIN shown AS s ON s.id = e.value ORDER BY e.key)"
)
"""One row: how many objects were found (and could be cut), and their array."""


class ShownStore:
    """The objects of one index slot: written by its writer, read by any thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: sqlite3.Connection | None = None
        self._readers = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._opened_lock = threading.Lock()
        with contextlib.closing(self._connect()) as connection:
            connection.execute(
                "CREATE TABLE IF NOT EXISTS shown (id INTEGER PRIMARY KEY, shown TEXT NOT NULL)"
            )

    @staticmethod
    def remove(path: Path) -> None:
        """Delete the store at `path` and its log (an index thrown away)."""
        for name in (path.name, f"{path.name}-wal", f"{path.name}-shm"):
            (path.parent / name).unlink(missing_ok=True)

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute(f"PRAGMA journal_size_limit={WAL_KEPT}")
        return connection

    def _writing(self) -> sqlite3.Connection:
        if self._writer is None:
            self._writer = self._connect()
        if not self._writer.in_transaction:
            self._writer.execute("BEGIN")
        return self._writer

    def put(self, objects: Iterable[tuple[int, str]]) -> None:
        """Add or replace the object of each id (visible after `commit`)."""
        self._writing().executemany("INSERT OR REPLACE INTO shown VALUES (?, ?)", objects)

    def delete(self, ids: Iterable[int]) -> None:
        self._writing().executemany("DELETE FROM shown WHERE id = ?", ((n,) for n in ids))

    def clear(self) -> None:
        self._writing().execute("DELETE FROM shown")

    def commit(self) -> None:
        writer = self._writer
        if writer is not None and writer.in_transaction:
            writer.execute("COMMIT")
            writer.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def rollback(self) -> None:
        writer = self._writer
        if writer is not None and writer.in_transaction:
            writer.execute("ROLLBACK")

    def close(self) -> None:
        self.rollback()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        with self._opened_lock:
            opened, self._opened = self._opened, []
        for reader in opened:
            reader.close()

    def _reader(self) -> sqlite3.Connection:
        """The calling thread's connection for reading, opened by its first read. The file is
        this store's for its whole life (it is removed only before an index is built anew, which
        opens a new store), so nothing is checked before a read, unlike
        `sqlite_driver.thread_reader`: a system call less, and one less wait for the GIL, a
        search."""
        reader: sqlite3.Connection | None = getattr(self._readers, "connection", None)
        if reader is None:
            reader = open_reader(str(self.path))
            self._readers.connection = reader
            with self._opened_lock:
                self._opened.append(reader)
        return reader

    def page(self, ids: Sequence[int], cut: str = "") -> str | None:
        """The JSON array of the objects of `ids`, in their order, each cut before the key
        `cut` when given (a shape showing the first fields only: `JsonPage.cut_before`); None
        when one of them is not kept, or has no such key, or the store cannot be read (or is
        closed). Blocking, on the calling thread's own connection."""
        if not ids:
            return "[]"
        try:
            reader = self._reader()
            arguments = {"ids": json.dumps(list(ids)), "cut": cut}
            found, array = reader.execute(_PAGE, arguments).fetchone()
        except (sqlite3.Error, OSError) as exc:  # the record answers instead
            logger.warning("the kept objects of %s could not be read: %s", self.path, exc)
            return None
        return array if found == len(ids) else None
