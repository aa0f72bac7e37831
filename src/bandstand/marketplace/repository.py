"""Every query the marketplace service runs."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.marketplace import search
from bandstand.marketplace.listing_rows import PAGE_COLUMNS
from bandstand.marketplace.models import MAX_ID, Instrument, derived_keys
from bandstand.platform.after_commit import record_write
from bandstand.platform.pagination import kept_statements
from bandstand.platform.rows import RowWrites

CONTRACT_FIELDS = (
    "name",
    "price",
    "link",
    "image",
    "location",
    "category",
    "expiration",
    "publish",
    "website",
)
"""The fields of a listing in the inherited contract (besides its id)."""
STORED_FIELDS = (*CONTRACT_FIELDS, "search_text", "category_key", "website_key", "location_key")

ListingRow = dict[str, Any]
"""A listing's contract fields as plain values (import and bulk writes)."""


@dataclass(frozen=True)
class InstrumentFilters:
    """Resolved filters of the listing: folded keys, decimal bounds, the day of "now"."""

    today: date
    words: tuple[str, ...] = ()
    category_key: str | None = None
    website_key: str | None = None
    location_key: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    published_after: date | None = None
    include_expired: bool = False
    ordering: str = "id"


def _order(filters: InstrumentFilters) -> list[search.OrderTerm]:
    ordering = filters.ordering
    if ordering == "relevance" and filters.words:
        return search.relevance(filters.words)
    if ordering in ("price", "-price", "publish", "-publish"):
        column = Instrument.price if ordering.endswith("price") else Instrument.publish
        direction = column.desc() if ordering.startswith("-") else column.asc()
        # Listings without a price or date come last either way, on both engines.
        return [direction.nulls_last(), Instrument.id]
    return [Instrument.id]


def _category_is(key: str, *, searched: bool) -> ColumnElement[bool]:
    """The category filter. With words, the full-text index leads and the category is checked
    on its matches, over an expression no index covers (`category_key || ''`, the same test):
    otherwise PostgreSQL ANDs a bitmap of the whole category (a tenth of the table here) with
    the full-text one, and as a search and its category go together (fender stratocaster in
    electric guitars) that removed almost no row, at twice the time of the search alone.
    SQLite plans it so already."""
    if searched:
        return Instrument.category_key.concat("") == key
    return Instrument.category_key == key


def _conditions(dialect: str, filters: InstrumentFilters) -> list[Any]:
    """The WHERE terms of `filters`, full-text matching in the engine's own way."""
    terms: list[ColumnElement[bool]] = []
    if filters.words:
        terms.append(search.backend(dialect).matches(filters.words))
    if not filters.include_expired:
        terms.append(or_(Instrument.expiration.is_(None), Instrument.expiration >= filters.today))
    if filters.category_key is not None:
        terms.append(_category_is(filters.category_key, searched=bool(filters.words)))
    if filters.website_key is not None:
        terms.append(Instrument.website_key == filters.website_key)
    if filters.location_key is not None:
        terms.append(Instrument.location_key == filters.location_key)
    if filters.min_price is not None:
        terms.append(Instrument.price >= filters.min_price)
    if filters.max_price is not None:
        terms.append(Instrument.price <= filters.max_price)
    if filters.published_after is not None:
        terms.append(Instrument.publish >= filters.published_after)
    return terms


@kept_statements
def _listing(dialect: str, filters: InstrumentFilters) -> Select[Any]:
    statement = select(*PAGE_COLUMNS).where(*_conditions(dialect, filters))
    return statement.order_by(*_order(filters))


class InstrumentRepository(RowWrites[Instrument]):
    def conditions(self, session: AsyncSession, filters: InstrumentFilters) -> list[Any]:
        """The WHERE terms of `filters`, full-text matching in the engine's own way."""
        return _conditions(session.get_bind().dialect.name, filters)

    def listing(self, session: AsyncSession, filters: InstrumentFilters) -> Select[Any]:
        """The listings of `filters` in their order, unpaged (for the kernel's pagination): the
        columns a page shows, as plain rows."""
        return _listing(session.get_bind().dialect.name, filters)

    async def count(self, session: AsyncSession, filters: InstrumentFilters) -> int:
        statement = select(func.count()).select_from(Instrument)
        statement = statement.where(*self.conditions(session, filters))
        return int((await session.execute(statement)).scalar_one())

    async def page(
        self,
        session: AsyncSession,
        filters: InstrumentFilters,
        offset: int,
        limit: int,
        *,
        after_id: int | None = None,
    ) -> Sequence[Instrument]:
        """One page in the order of `filters`; `after_id` (id order only) skips to the listings
        after that id before the offset is counted.

        The offset is walked over ids alone (an index-only scan where the engine can), and only
        the page's own rows are read in full.
        """
        order = _order(filters)
        conditions = self.conditions(session, filters)
        if after_id is not None:
            assert filters.ordering == "id"
            conditions.append(Instrument.id > after_id)
        ids = select(Instrument.id).where(*conditions).order_by(*order).limit(limit).offset(offset)
        statement = select(Instrument).where(Instrument.id.in_(ids)).order_by(*order)
        return (await session.execute(statement)).scalars().all()

    async def anchors(
        self, session: AsyncSession, filters: InstrumentFilters, every: int
    ) -> list[int]:
        """The id of every `every`-th listing matching `filters`, in id order, in one scan."""
        position = func.row_number().over(order_by=Instrument.id).label("position")
        numbered = (
            select(Instrument.id.label("id"), position)
            .where(*self.conditions(session, filters))
            .subquery()
        )
        statement = (
            select(numbered.c.id).where(numbered.c.position % every == 0).order_by(numbered.c.id)
        )
        return [int(anchor) for anchor in (await session.execute(statement)).scalars()]

    async def categories(
        self, session: AsyncSession, filters: InstrumentFilters
    ) -> list[tuple[str, int]]:
        """Each category (its first spelling) with its listings under `filters`, largest first."""
        counted = func.count().label("listings")
        statement = (
            select(func.min(Instrument.category), counted)
            .where(*self.conditions(session, filters), Instrument.category_key.is_not(None))
            .group_by(Instrument.category_key)
            .order_by(counted.desc(), Instrument.category_key)
        )
        return [(str(name), int(count)) for name, count in await session.execute(statement)]

    async def get(self, session: AsyncSession, instrument_id: int) -> Instrument | None:
        if not 1 <= instrument_id <= MAX_ID:
            return None
        return await session.get(Instrument, instrument_id)

    async def link_taken(
        self, session: AsyncSession, link: str, *, other_than: int | None = None
    ) -> bool:
        statement = select(Instrument.id).where(Instrument.link == link)
        if other_than is not None:
            statement = statement.where(Instrument.id != other_than)
        return (await session.execute(statement.limit(1))).first() is not None

    # Bulk writes (import)

    async def tidy_after_bulk_write(self, session: AsyncSession) -> None:
        """Refresh the planner's statistics, and on SQLite merge the full-text index into one
        segment: after a large import, prefix queries read one segment instead of hundreds."""
        connection = await session.connection()
        if connection.dialect.name == "sqlite":
            await connection.exec_driver_sql(
                "INSERT INTO instruments_fts(instruments_fts) VALUES ('optimize')"
            )
        await connection.exec_driver_sql("ANALYZE instruments")

    async def prepare_bulk_write(self, session: AsyncSession) -> None:
        """Ready the session's connection for a long series of batches (the import command).

        On SQLite, a page cache of 64 MiB instead of 2: the unique index on `link` and the
        full-text index of a million listings are written at random places, and with the small
        default cache most of a batch's time went to reading their pages back in. On
        PostgreSQL, commits that do not wait for the WAL to reach the disk: a crash of the
        server may lose the import's last transactions, which running it again writes anew."""
        connection = await session.connection()
        if connection.dialect.name == "sqlite":
            await connection.exec_driver_sql(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
        else:
            await connection.exec_driver_sql("SET synchronous_commit = off")

    async def merge(
        self, session: AsyncSession, rows: Sequence[Mapping[str, Any]], now: datetime
    ) -> tuple[int, int]:
        """Insert the listings, or update the stored one with the same link where it differs;
        (inserted, updated). Links must be unique within `rows`; a row may carry its folded
        keys already (the import computes them while it reads). A stored row
        equal to its new version is not written at all: the database compares them, in the
        writing statement.

        SQLite: one multi-row upsert (`upsert`) that returns the rows it wrote, those whose
        `created_at` is this batch's time being the inserted ones. PostgreSQL: the batch is
        copied (`COPY`, binary) into a temporary table, then merged by one `INSERT ... SELECT
        ... ON CONFLICT` that reports which rows it inserted (`xmax = 0`) and which it updated.
        """
        if not rows:
            return 0, 0
        # Driver-level statements: say what they write, for the after-commit work watching it.
        for operation in ("insert", "update"):
            record_write(session, Instrument.__tablename__, operation)
        connection = await session.connection()
        if connection.dialect.name == "sqlite":
            created = await self.upsert(session, rows, now)
            stamp = _sqlite_stamp(now)
            inserted = sum(1 for written in created if written == stamp)
            return inserted, len(created) - inserted
        await connection.exec_driver_sql(_STAGING_SQL)  # also begins the driver's transaction
        raw = await connection.get_raw_connection()
        records = []
        for row in rows:
            values = with_derived_keys(row)
            records.append(tuple(values[name] for name in STORED_FIELDS))
        await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
            _STAGING, records=records, columns=STORED_FIELDS
        )
        result = await connection.exec_driver_sql(_MERGE_SQL, (now.astimezone(UTC),))
        written = [bool(inserted) for (inserted,) in result]
        await connection.exec_driver_sql(f"DROP TABLE {_STAGING}")
        inserted = sum(written)
        return inserted, len(written) - inserted

    async def upsert(
        self, session: AsyncSession, rows: Sequence[Mapping[str, Any]], now: datetime
    ) -> list[Any]:
        """Insert the listings, or update the stored one with the same link where it differs;
        the `created_at` of every row written (inserted or updated).

        One multi-row statement for the whole batch, handed to the driver as it is: SQLite's
        FTS5 table writes its pending words out at every statement (a savepoint), so a statement
        per row would cost a full-text segment per row. Links must be unique within `rows`.
        """
        if not rows:
            return []
        if len(rows) > MAX_UPSERT_ROWS:
            raise ValueError(f"at most {MAX_UPSERT_ROWS} rows per upsert")
        connection = await session.connection()
        sqlite = connection.dialect.name == "sqlite"
        stamp: Any = _sqlite_stamp(now) if sqlite else now.astimezone(UTC)
        parameters: list[Any] = []
        for row in rows:
            values = with_derived_keys(row)
            if sqlite:
                values = _sqlite_values(values)
            parameters.extend(values[name] for name in STORED_FIELDS)
            parameters.extend((stamp, stamp))
        result = await connection.exec_driver_sql(_upsert_sql(len(rows), sqlite), tuple(parameters))
        return [created for (created,) in result]


def with_derived_keys(row: Mapping[str, Any]) -> Mapping[str, Any]:
    """`row` with its folded keys: itself when it has them already, else a new mapping."""
    if "search_text" in row:
        return row
    return {**row, **derived_keys(row)}


_WRITTEN = (*STORED_FIELDS, "created_at", "updated_at")
BULK_CACHE_KIB = 65536
_STAGING = "instruments_import"
_STAGING_SQL = (
    f"CREATE TEMPORARY TABLE {_STAGING} (name text, price numeric(10, 2), link text, image text,"
    " location text, category text, expiration date, publish date, website text,"
    " search_text text, category_key text, website_key text, location_key text)"
    " ON COMMIT DROP"
)
_MERGE_SQL = (
    f"INSERT INTO instruments ({', '.join(_WRITTEN)}) "  # noqa: S608 (fixed names only)
    f"SELECT {', '.join(STORED_FIELDS)}, $1::timestamptz, $1::timestamptz FROM {_STAGING} "
    "ON CONFLICT (link) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in (*STORED_FIELDS, "updated_at"))
    + f" WHERE ({', '.join(f'instruments.{n}' for n in STORED_FIELDS)}) IS DISTINCT FROM "
    f"({', '.join(f'excluded.{n}' for n in STORED_FIELDS)}) "
    "RETURNING (xmax = 0) AS inserted"
)
MAX_UPSERT_ROWS = 32766 // len(_WRITTEN)
"""As many rows as one statement can carry (both engines bind at most 32,766 values)."""


@functools.lru_cache(maxsize=8)
def _upsert_sql(count: int, sqlite: bool) -> str:
    # Built from the fixed column names above only; every value is a bound parameter.
    width = len(_WRITTEN)
    if sqlite:
        one = "(" + ", ".join("?" * width) + ")"
        values = ", ".join([one] * count)
        changed = " OR ".join(f"instruments.{n} IS NOT excluded.{n}" for n in STORED_FIELDS)
    else:
        values = ", ".join(
            "(" + ", ".join(f"${row * width + column + 1}" for column in range(width)) + ")"
            for row in range(count)
        )
        changed = (
            f"({', '.join(f'instruments.{n}' for n in STORED_FIELDS)}) IS DISTINCT FROM "
            f"({', '.join(f'excluded.{n}' for n in STORED_FIELDS)})"
        )
    updates = ", ".join(f"{name} = excluded.{name}" for name in (*STORED_FIELDS, "updated_at"))
    return (
        f"INSERT INTO instruments ({', '.join(_WRITTEN)}) VALUES {values} "  # noqa: S608
        f"ON CONFLICT (link) DO UPDATE SET {updates} WHERE {changed} RETURNING created_at"
    )


def _sqlite_stamp(now: datetime) -> str:
    """A time as the ORM stores it on SQLite (UTC, no zone)."""
    return now.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def _sqlite_values(values: Mapping[str, Any]) -> Mapping[str, Any]:
    """Values as the ORM binds them on SQLite: a price as a REAL, dates as ISO text."""
    price, expiration, publish = values["price"], values["expiration"], values["publish"]
    return {
        **values,
        "price": None if price is None else float(price),
        "expiration": None if expiration is None else expiration.isoformat(),
        "publish": None if publish is None else publish.isoformat(),
    }
