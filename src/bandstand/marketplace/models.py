"""Marketplace's tables: instrument listings (plus the platform outbox and processed messages).

Beside the fields of the inherited contract, a listing stores the folded forms it is searched
and filtered by (`search_text`, `category_key`, `website_key`, `location_key`), computed in
Python when it is written (see `text.py`). The full-text index over `search_text` is the
engine's own: an FTS5 table kept in sync by triggers on SQLite, a GIN index over
`to_tsvector('simple', search_text)` on PostgreSQL (both created by the migration).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from sqlalchemy import Column, Date, Index, Integer, MetaData, Numeric, String, Table
from sqlalchemy.orm import Mapped, mapped_column, validates

from bandstand.marketplace import text
from bandstand.platform.database import ServiceBase, new_metadata
from bandstand.platform.messaging import attach_outbox, attach_processed_messages
from bandstand.platform.rows import Timestamps

NAME_MAX = 500
LINK_MAX = 1000
WEBSITE_MAX = 500
IMAGE_MAX = 1000
LOCATION_MAX = 500
CATEGORY_MAX = 200
PRICE_MAX = Decimal("99999999.99")
"""decimal(10,2)."""
MAX_ID = 2**31 - 1
FTS_TABLE = "instruments_fts"


class MarketplaceBase(ServiceBase):
    __abstract__ = True
    metadata = new_metadata()


class Instrument(MarketplaceBase, Timestamps):
    __tablename__ = "instruments"
    __table_args__ = (
        # The category filter with the id order of the inherited list; the orderings. Website
        # and location have none: they come with other filters, and every index slows imports.
        Index("ix_instruments_category_key_id", "category_key", "id"),
        Index("ix_instruments_price_id", "price", "id"),
        Index("ix_instruments_publish_id", "publish", "id"),
        # Hidden-when-expired is checked on every public read: ordered by id, covering it.
        Index("ix_instruments_id_expiration", "id", "expiration"),
        # Ids are never reused (AUTOINCREMENT on SQLite; PostgreSQL's sequence only moves on).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    price: Mapped[Decimal | None] = mapped_column(Numeric(10, 2), nullable=True)
    link: Mapped[str] = mapped_column(String(LINK_MAX), unique=True)
    image: Mapped[str | None] = mapped_column(String(IMAGE_MAX), nullable=True)
    location: Mapped[str | None] = mapped_column(String(LOCATION_MAX), nullable=True)
    category: Mapped[str | None] = mapped_column(String(CATEGORY_MAX), nullable=True)
    expiration: Mapped[date | None] = mapped_column(Date, nullable=True)
    publish: Mapped[date | None] = mapped_column(Date, nullable=True)
    website: Mapped[str] = mapped_column(String(WEBSITE_MAX))
    search_text: Mapped[str] = mapped_column(String(2 * NAME_MAX))
    category_key: Mapped[str | None] = mapped_column(String(2 * CATEGORY_MAX), nullable=True)
    website_key: Mapped[str] = mapped_column(String(2 * WEBSITE_MAX))
    location_key: Mapped[str | None] = mapped_column(String(2 * LOCATION_MAX), nullable=True)

    @validates("name")
    def _keep_search_text(self, _key: str, name: str) -> str:
        self.search_text = text.search_text(name)
        return name

    @validates("category")
    def _keep_category_key(self, _key: str, category: str | None) -> str | None:
        self.category_key = text.key(category)
        return category

    @validates("website")
    def _keep_website_key(self, _key: str, website: str) -> str:
        self.website_key = text.key(website) or ""
        return website

    @validates("location")
    def _keep_location_key(self, _key: str, location: str | None) -> str | None:
        self.location_key = text.key(location)
        return location


def derived_keys(row: Mapping[str, object]) -> dict[str, object]:
    """The folded columns of a listing given as a dict of its contract fields (bulk writes)."""
    name = row["name"]
    assert isinstance(name, str)
    website = row.get("website")
    category = row.get("category")
    location = row.get("location")
    return {
        "search_text": text.search_text(name),
        "category_key": text.key(category) if isinstance(category, str) else None,
        "website_key": (text.key(website) or "") if isinstance(website, str) else "",
        "location_key": text.key(location) if isinstance(location, str) else None,
    }


# SQLite's full-text table (external content over instruments.search_text). Described here for
# queries only: it is not in the service's metadata, the migration creates it on SQLite alone.
instruments_fts = Table(
    FTS_TABLE, MetaData(), Column("rowid", Integer, primary_key=True), Column(FTS_TABLE, String)
)

attach_outbox(MarketplaceBase.metadata)
attach_processed_messages(MarketplaceBase.metadata)
