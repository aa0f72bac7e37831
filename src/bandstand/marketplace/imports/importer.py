"""Bulk import of listings: CSV or JSON Lines read as a stream, rows checked one by one, written
in batches of upserts keyed on `link`.

A bad row (missing name or link, unparsable price or date, over-long field...) is reported with
its line and field and skipped; the rows around it are still imported. A link repeated in a file
is taken from its last row. Rows equal to what is stored are not written at all, so importing
the same file again changes nothing, and a newer version of a file updates the changed rows only.

One exception, the price of reading in constant memory: a link repeated in rows farther apart
than a batch (`BATCH_SIZE` rows) is written once per batch, the later row last. Importing such a
file again rewrites that listing (its first row, then its last: the same values in the end, a
new `updated_at`) and counts it as updated.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import IO, Any
from urllib.parse import urlsplit

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.marketplace import events
from bandstand.marketplace.models import (
    CATEGORY_MAX,
    IMAGE_MAX,
    LINK_MAX,
    LOCATION_MAX,
    NAME_MAX,
    WEBSITE_MAX,
    derived_keys,
)
from bandstand.marketplace.repository import (
    CONTRACT_FIELDS,
    InstrumentRepository,
    ListingRow,
)
from bandstand.marketplace.schemas import (
    ImportSummary,
    InstrumentCreate,
    RowProblem,
    parse_date,
    parse_price,
)
from bandstand.platform.clock import utcnow
from bandstand.platform.schemas import unstorable_reason

BATCH_SIZE = 2000
MAX_REPORTED_PROBLEMS = 1000
TIDY_AFTER_WRITES = 10_000
"""An import writing this many rows ends by refreshing statistics and merging the search index."""
_REQUIRED = ("name", "link")


class ImportFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


class UnreadableFile(Exception):
    """The file as a whole cannot be read (no header, not text, not the format it claims)."""


def format_of(filename: str) -> ImportFormat:
    lowered = filename.lower()
    if lowered.endswith(".csv"):
        return ImportFormat.CSV
    if lowered.endswith((".jsonl", ".ndjson", ".json")):
        return ImportFormat.JSONL
    raise UnreadableFile(f"cannot tell the format of {filename!r}: use .csv or .jsonl")


@dataclass(frozen=True)
class SourceRow:
    line: int
    values: dict[str, Any] | None
    problem: str | None = None


class _CountingLines:
    """Decoded lines of a binary stream, counting the bytes read (for progress) and noting the
    lines that are not UTF-8 (read with replacement characters, then refused)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.bytes_read = 0
        self.lines = 0
        self.bad_lines: set[int] = set()

    def __iter__(self) -> Iterator[str]:
        for raw in self.stream:
            self.bytes_read += len(raw)
            self.lines += 1
            if self.lines == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                self.bad_lines.add(self.lines)
                yield raw.decode("utf-8", errors="replace")

    def bad_between(self, first: int, last: int) -> bool:
        return bool(self.bad_lines) and any(n in self.bad_lines for n in range(first, last + 1))


NOT_UTF8 = "the row is not valid UTF-8 text"


def read_csv(lines: _CountingLines) -> Iterator[SourceRow]:
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        raise UnreadableFile("the file is empty: a CSV file starts with a header row") from None
    except csv.Error as exc:
        raise UnreadableFile(f"the header row cannot be read: {exc}") from exc
    if lines.bad_lines:
        raise UnreadableFile("the header row is not UTF-8 text")
    columns = [name.strip().lower() for name in header]
    missing = [name for name in _REQUIRED if name not in columns]
    if missing:
        raise UnreadableFile(f"the header row has no column {', '.join(missing)}")
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield SourceRow(line, None, f"the row cannot be read as CSV: {exc}")
            continue
        if lines.bad_between(line, reader.line_num):
            yield SourceRow(line, None, NOT_UTF8)
            continue
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(columns):
            problem = f"the row has {len(cells)} cells, the header {len(columns)}"
            yield SourceRow(line, None, problem)
            continue
        values = {
            name: (cell if cell.strip() else None)
            for name, cell in zip(columns, cells, strict=True)
        }
        yield SourceRow(line, values)


def read_jsonl(lines: _CountingLines) -> Iterator[SourceRow]:
    for line, text in enumerate(lines, start=1):
        if line in lines.bad_lines:
            yield SourceRow(line, None, NOT_UTF8)
            continue
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except ValueError as exc:
            yield SourceRow(line, None, f"the line is not JSON: {exc}")
            continue
        if not isinstance(value, dict):
            yield SourceRow(line, None, "the line is not a JSON object")
            continue
        values = {
            str(key).strip().lower(): None if isinstance(item, str) and not item.strip() else item
            for key, item in value.items()
        }
        yield SourceRow(line, values)


def listing_of(values: dict[str, Any]) -> ListingRow:
    """The row as a listing, by the API's own rules; raises ValidationError.

    A row without a website takes the host of its link (the site it was scraped from). The
    common case, a valid row of text cells, is checked by `_plain_listing` (the same rules
    written out, several times faster than the model); anything else goes through the model,
    which also words the problem of a bad row.
    """
    known = {name: values[name] for name in CONTRACT_FIELDS if name in values}
    link = known.get("link")
    if known.get("website") is None and isinstance(link, str):
        known["website"] = urlsplit(link.strip()).hostname or ""
    listing = _plain_listing(known)
    if listing is not None:
        return listing
    return InstrumentCreate.model_validate(known).model_dump()


_TEXT_FIELDS = (
    ("name", NAME_MAX, True),
    ("link", LINK_MAX, True),
    ("image", IMAGE_MAX, False),
    ("location", LOCATION_MAX, False),
    ("category", CATEGORY_MAX, False),
    ("website", WEBSITE_MAX, True),
)
_EDGES = " \t\r\n"


def _plain_listing(known: dict[str, Any]) -> ListingRow | None:
    """`InstrumentCreate`'s result for a row whose every value is text or null and valid; None
    as soon as a value is anything else (the model then decides, and words the problem)."""
    listing: ListingRow = {}
    for name, limit, required in _TEXT_FIELDS:
        value = known.get(name)
        if value is None:
            if required:
                return None
            listing[name] = None
            continue
        if type(value) is not str:
            return None
        value = value.strip(_EDGES)
        if value != value.strip() or len(value) > limit or unstorable_reason(value):
            return None  # other whitespace at an edge (the model's own stripping), or refused
        if required and name != "website" and not value:
            return None
        listing[name] = value
    try:
        for name in ("price", "expiration", "publish"):
            value = known.get(name)
            if value is not None and type(value) is not str:
                return None
            listing[name] = parse_price(value) if name == "price" else parse_date(value)
    except ValueError:
        return None
    return listing


@dataclass
class InstrumentImport:
    """One import: feed it rows, it writes them in batches and keeps the summary."""

    actor_id: int | None = None
    batch_size: int = BATCH_SIZE
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    superseded: int = 0
    """Rows whose link came again later in the file (the later row wins)."""
    rejected: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    started_at: datetime = field(default_factory=utcnow)
    """Before any row is written: the search index reads again what changed since then."""
    _batch: dict[str, ListingRow] = field(default_factory=dict)
    _repository: InstrumentRepository = field(default_factory=InstrumentRepository)

    def reject(self, line: int, field_name: str | None, message: str) -> None:
        self.rejected += 1
        if len(self.problems) < MAX_REPORTED_PROBLEMS:
            self.problems.append(RowProblem(line=line, field=field_name, message=message))

    def add(self, row: SourceRow) -> bool:
        """Check one row and queue it; True when the batch is full (call `flush`)."""
        if row.values is None:
            self.reject(row.line, None, row.problem or "unreadable row")
            return False
        try:
            listing = listing_of(row.values)
        except ValidationError as exc:
            error = exc.errors()[0]
            location = [str(part) for part in error.get("loc", ())]
            message = "is required" if error["type"] == "missing" else error["msg"]
            self.reject(row.line, location[0] if location else None, message)
            return False
        if self._batch.pop(listing["link"], None) is not None:
            self.superseded += 1
        # Folded here, in the reading thread, rather than by the writer.
        listing.update(derived_keys(listing))
        self._batch[listing["link"]] = listing
        return len(self._batch) >= self.batch_size

    def take(self) -> list[ListingRow]:
        """The queued rows, leaving the queue empty."""
        rows = list(self._batch.values())
        self._batch.clear()
        return rows

    async def prepare(self, session: AsyncSession) -> None:
        """Ready `session` for a long series of batches (a large import)."""
        await self._repository.prepare_bulk_write(session)

    async def flush(self, session: AsyncSession) -> None:
        """Write the queued rows."""
        await self.write(session, self.take())

    async def write(self, session: AsyncSession, rows: list[ListingRow]) -> None:
        """Write `rows` (unique links): insert the new links, update those that differ."""
        if not rows:
            return
        inserted, updated = await self._repository.merge(session, rows, utcnow())
        self.inserted += inserted
        self.updated += updated
        self.unchanged += len(rows) - inserted - updated

    async def finish(self, session: AsyncSession) -> ImportSummary:
        await self.flush(session)
        if self.inserted + self.updated >= TIDY_AFTER_WRITES:
            await self._repository.tidy_after_bulk_write(session)
        await events.instruments_imported(
            session, self.inserted, self.updated, self.rejected, self.actor_id, self.started_at
        )
        return self.summary()

    def summary(self) -> ImportSummary:
        return ImportSummary(
            inserted=self.inserted,
            updated=self.updated,
            unchanged=self.unchanged + self.superseded,
            rejected=self.rejected,
            problems=list(self.problems),
        )


def rows_of(stream: IO[bytes], fmt: ImportFormat) -> tuple[Iterator[SourceRow], Callable[[], int]]:
    """The rows of `stream` and a function telling how many bytes were read so far."""
    lines = _CountingLines(stream)
    reader = read_csv(lines) if fmt is ImportFormat.CSV else read_jsonl(lines)
    return reader, lambda: lines.bytes_read
