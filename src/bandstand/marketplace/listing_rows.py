"""Reading the listings a search found: the page's columns as plain rows, by id, with the two
maxima the index's freshness is checked against (the newest listing id and outbox row)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ARRAY, Integer, String, any_, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.marketplace.models import Instrument
from bandstand.marketplace.schemas import InstrumentRead
from bandstand.platform.json_pages import JsonField, JsonPage, Kind
from bandstand.platform.messaging.outbox import outbox_table
from bandstand.platform.plain_reads import plain_rows

TOP_ID = select(func.max(Instrument.id)).scalar_subquery().label("top_id")
TOP_EVENT = select(func.max(outbox_table.c.id)).scalar_subquery().label("top_event")
_NEWEST = select(TOP_ID, TOP_EVENT)
PAGE_COLUMNS = tuple(
    column for column in Instrument.__table__.columns if column.name in InstrumentRead.model_fields
)
"""What a page shows of a listing (`InstrumentRead`), read as plain rows, not ORM objects."""
_KINDS: dict[str, Kind] = {"price": "money", "created_at": "utc", "updated_at": "utc"}
PAGE_JSON = JsonPage(
    Instrument.__tablename__,
    [JsonField(name, _KINDS.get(name, "value")) for name in InstrumentRead.model_fields],
    extras={
        "top_id": select(func.max(Instrument.id)),
        "top_event": select(func.max(outbox_table.c.id)),
    },
)
"""A page of listings written to JSON by the database as `InstrumentRead` writes them, with the
two maxima the index's freshness is checked against."""


# The page's ids are one bound value (a JSON array on SQLite, an array on PostgreSQL), so the
# statement is the same whatever their number: compiled once, and one prepared statement.
_EACH_ID = func.json_each(bindparam("ids", type_=String)).table_valued("value")
_ONE_OF_IDS = {
    "sqlite": Instrument.id.in_(select(_EACH_ID.c.value)),
    "postgresql": Instrument.id == any_(bindparam("ids", type_=ARRAY(Integer))),
}
PAGE = {dialect: select(*PAGE_COLUMNS).where(where) for dialect, where in _ONE_OF_IDS.items()}
PAGE_WITH_TOPS = {
    dialect: select(*PAGE_COLUMNS, TOP_ID, TOP_EVENT).where(where)
    for dialect, where in _ONE_OF_IDS.items()
}


async def page_rows(
    session: AsyncSession, ids: Sequence[int], statements: dict[str, Any]
) -> list[Any]:
    """The rows of `statements` (one per dialect) for the listings `ids`, in no order."""
    dialect = session.get_bind().dialect.name
    bound = json.dumps(list(ids)) if dialect == "sqlite" else list(ids)
    return await plain_rows(session, statements[dialect], {"ids": bound})


async def newest(session: AsyncSession) -> tuple[int | None, int | None]:
    [(top_id, top_event)] = await plain_rows(session, _NEWEST)
    return top_id, top_event
