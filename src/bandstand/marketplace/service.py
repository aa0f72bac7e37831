"""Marketplace's use cases: the listing, one listing, and the admin's writes.

Every method takes the request's session and never commits; events go to the outbox in the same
transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.marketplace import events, text
from bandstand.marketplace.counting import ListingCounter
from bandstand.marketplace.listing_index import ListingIndex
from bandstand.marketplace.listing_rows import PAGE_JSON
from bandstand.marketplace.models import Instrument
from bandstand.marketplace.repository import InstrumentFilters, InstrumentRepository
from bandstand.marketplace.schemas import InstrumentCreate
from bandstand.platform.clock import utcnow
from bandstand.platform.errors import BadRequest, Conflict, NotFound
from bandstand.platform.json_pages import JsonPage
from bandstand.platform.rows import changed_fields

LINK_TAKEN = "instrument with this link already exists."


class InstrumentNotFound(NotFound):
    def __init__(self, instrument_id: int) -> None:
        super().__init__(f"Instrument with id {instrument_id} not found")


class LinkTaken(Conflict):
    def __init__(self) -> None:
        super().__init__(LINK_TAKEN, extra={"link": [LINK_TAKEN]})


@dataclass(frozen=True)
class ListingQuery:
    """The listing's filters as a client sends them (parsed, not yet folded)."""

    search: str | None = None
    category: str | None = None
    website: str | None = None
    location: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    published_after: date | None = None
    include_expired: bool = False
    ordering: str | None = None


def listing_filters(
    query: ListingQuery,
    *,
    today: date | None = None,
    min_price_name: str = "min_price",
    max_price_name: str = "max_price",
) -> InstrumentFilters:
    """Fold the filters into what is stored; refuse a price range that is empty by design.

    Text filters are exact but ignore case, accents and surrounding space; an empty one is no
    filter. Without `ordering`, a search is ranked by relevance and the rest is in id order.
    """
    if (
        query.min_price is not None
        and query.max_price is not None
        and query.min_price > query.max_price
    ):
        message = f"must not be greater than {max_price_name}"
        raise BadRequest(f"{min_price_name}: {message}", extra={min_price_name: [message]})
    words = tuple(text.words(query.search)) if query.search else ()
    ordering = query.ordering or ("relevance" if words else "id")
    return InstrumentFilters(
        today=today or utcnow().date(),
        words=words,
        category_key=text.key(query.category) or None,
        website_key=text.key(query.website) or None,
        location_key=text.key(query.location) or None,
        min_price=query.min_price,
        max_price=query.max_price,
        published_after=query.published_after,
        include_expired=query.include_expired,
        ordering=ordering,
    )


class InstrumentService:
    def __init__(self) -> None:
        self.instruments = InstrumentRepository()

    async def page(
        self,
        session: AsyncSession,
        counter: ListingCounter,
        filters: InstrumentFilters,
        offset: int,
        limit: int,
    ) -> tuple[int, Sequence[Instrument]]:
        """The number of listings matching `filters` and those of one page (none past the end),
        read in SQL: for what the search index does not answer (`search_page`)."""
        count = await counter.count(session, filters)
        if offset >= count:
            return count, []
        return count, await counter.page(session, filters, offset, limit)

    async def search_page(
        self,
        session: AsyncSession,
        filters: InstrumentFilters,
        offset: int,
        limit: int,
        listings: ListingIndex | None,
        shape: JsonPage = PAGE_JSON,
    ) -> tuple[int, str] | None:
        """The count and the page of a search answered by the search index (`listing_index.py`),
        the listings written to JSON by the database as `shape` says; None when the index
        cannot answer (then `page` does)."""
        if listings is None:
            return None
        return await listings.search(session, filters, offset, limit, shape)

    def listing(self, session: AsyncSession, filters: InstrumentFilters) -> Select[Any]:
        """The listings of `filters` in their order, for a list without words (paged by the
        kernel, so by cursor too); searches go through `search_page`, or `page` where the index
        cannot answer."""
        return self.instruments.listing(session, filters)

    async def categories(
        self, session: AsyncSession, filters: InstrumentFilters
    ) -> list[tuple[str, int]]:
        return await self.instruments.categories(session, filters)

    async def get(
        self, session: AsyncSession, instrument_id: int, *, include_expired: bool = True
    ) -> Instrument:
        instrument = await self.instruments.get(session, instrument_id)
        if instrument is None or (not include_expired and _expired(instrument)):
            raise InstrumentNotFound(instrument_id)
        return instrument

    async def create(
        self, session: AsyncSession, data: InstrumentCreate, actor_id: int | None
    ) -> Instrument:
        if await self.instruments.link_taken(session, data.link):
            raise LinkTaken
        instrument = await self.instruments.add(session, Instrument(**data.model_dump()))
        return await events.INSTRUMENTS.created(session, instrument, actor_id)

    async def update(
        self,
        session: AsyncSession,
        instrument: Instrument,
        changes: dict[str, Any],
        actor_id: int | None,
    ) -> Instrument:
        """Set the fields that differ and publish what changed; nothing changed, nothing sent."""
        changed = changed_fields(instrument, changes)
        if not changed:
            return instrument
        if "link" in changed and await self.instruments.link_taken(
            session, changes["link"], other_than=instrument.id
        ):
            raise LinkTaken
        return await events.INSTRUMENTS.apply(session, instrument, changes, changed, actor_id)

    async def delete(
        self, session: AsyncSession, instrument: Instrument, actor_id: int | None
    ) -> None:
        await self.instruments.delete(session, instrument)
        await events.INSTRUMENTS.deleted(session, instrument, actor_id)


def _expired(instrument: Instrument) -> bool:
    return instrument.expiration is not None and instrument.expiration < utcnow().date()


instrument_service = InstrumentService()
