"""Dates and times in request and response bodies, exactly as their OpenAPI document says.

pydantic's lax mode takes a JSON number for a date or a date-time (seconds since the epoch),
which the document (`"type": "string"`) does not allow, and reads the text `"0"` as the epoch:
`IsoDate` and `IsoDatetime` take only ISO 8601 text (or the Python objects themselves).
`UTCDatetime` is the form every response gives a stored time in: aware, in UTC (SQLite hands
times back without a zone, and a date-time without an offset is not a JSON Schema `date-time`).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken as UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _iso_text(kind: str, pattern: re.Pattern[str]) -> Any:
    def check(value: Any) -> Any:
        if isinstance(value, date) or (isinstance(value, str) and pattern.match(value)):
            return value
        raise ValueError(f"must be an ISO 8601 {kind}")

    return check


# pydantic would also read "0" as a day or a moment: the epoch.
_DATE = re.compile(r"\s*[0-9]{4}-[0-9]{2}-[0-9]{2}\s*$")
_DATETIME = re.compile(r"\s*[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}")

IsoDate = Annotated[date, BeforeValidator(_iso_text("date (YYYY-MM-DD)", _DATE))]
IsoDatetime = Annotated[datetime, BeforeValidator(_iso_text("date-time", _DATETIME))]
UTCDatetime = Annotated[datetime, AfterValidator(as_utc)]
