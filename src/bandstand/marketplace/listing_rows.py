"""What a page shows of a listing: its columns, read as plain rows by the SQL searches
(`repository.py`), and the JSON shapes of a search by the index (`platform/json_pages.py`): the
object the index keeps of each listing is written as `PAGE_JSON` writes it, the inherited shape
is cut from it, and either is read from the database when the index cannot give it; with the two
maxima the index's freshness is checked against (the newest listing id and outbox row)."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import func, select

from bandstand.marketplace.models import Instrument
from bandstand.marketplace.schemas import InstrumentRead, LegacyInstrument
from bandstand.platform.json_pages import JsonPage
from bandstand.platform.json_text import JsonField, Kind
from bandstand.platform.messaging.outbox import outbox_table

PAGE_COLUMNS = tuple(
    column for column in Instrument.__table__.columns if column.name in InstrumentRead.model_fields
)
"""What a page shows of a listing (`InstrumentRead`), read as plain rows, not ORM objects."""

_KINDS: dict[str, Kind] = {"price": "money", "created_at": "utc", "updated_at": "utc"}


def _json_page(model: type[BaseModel]) -> JsonPage:
    return JsonPage(
        Instrument.__tablename__,
        [JsonField(name, _KINDS.get(name, "value")) for name in model.model_fields],
        extras={
            "top_id": select(func.max(Instrument.id)),
            "top_event": select(func.max(outbox_table.c.id)),
        },
    )


PAGE_JSON = _json_page(InstrumentRead)
"""A page of listings written to JSON by the database as `InstrumentRead` writes them."""
LEGACY_PAGE_JSON = _json_page(LegacyInstrument)
"""The same, as the inherited contract's `LegacyInstrument` writes them."""
