"""Concerts's request and response bodies. No client field can set an id, owner or timestamp."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    model_validator,
)

from bandstand.concerts.models import MAX_ID, Concert
from bandstand.platform.rows import column_values
from bandstand.platform.schemas import (
    ChangeBody,
    IsoDatetime,
    StorableText,
    StrictBody,
    UTCDatetime,
    as_utc,
)

MAX_DURATION = 7 * 24 * 60  # a week-long festival, in minutes

Status = Literal["Attending", "Not Attending", "-"]
StoredStatus = Literal["Attending", "Not Attending"]
Ordering = Literal["date", "-date"]


def parse_date_bound(value: Any) -> date | datetime:
    """`YYYY-MM-DD` gives a date (a whole day), an ISO 8601 date-time gives a UTC datetime."""
    if isinstance(value, date):
        return as_utc(value) if isinstance(value, datetime) else value
    text = str(value).strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return as_utc(datetime.fromisoformat(text))
    except ValueError as exc:
        raise ValueError("must be an ISO 8601 date (YYYY-MM-DD) or date-time") from exc


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def next_day_start(day: date) -> datetime | None:
    """Midnight UTC after `day`; None past the last representable day."""
    try:
        return day_start(day) + timedelta(days=1)
    except OverflowError:
        return None


Name = Annotated[str, StorableText(strip_whitespace=True, min_length=1, max_length=200)]
City = Annotated[str, StorableText(strip_whitespace=True, min_length=1, max_length=100)]
Venue = Annotated[str, StorableText(strip_whitespace=True, max_length=200)]
Description = Annotated[str, StorableText(max_length=5000)]
Duration = Annotated[int, Field(strict=True, ge=1, le=MAX_DURATION, description="Minutes")]
PictureId = Annotated[
    int, Field(strict=True, ge=1, le=MAX_ID, description="A picture of the music service")
]
StartTime = Annotated[
    IsoDatetime,
    AfterValidator(as_utc),
    Field(description="Start, ISO 8601; without a zone it is taken as UTC"),
]
CityFilter = Annotated[str, StorableText(max_length=100)]
# Plain parsing: pydantic's own would take a date-time with a zero time for a date.
DateBound = Annotated[date | datetime, PlainValidator(parse_date_bound, json_schema_input_type=str)]


class ConcertCreate(StrictBody):
    concert_name: Name
    duration: Duration
    city: City
    date: StartTime
    venue: Venue = ""
    description: Description = ""
    picture_id: PictureId | None = None


_NOT_NULL = ("concert_name", "duration", "city", "date", "venue", "description")


class ConcertUpdate(ChangeBody):
    """A partial change: only the fields sent are changed; `picture_id` may be set to null."""

    concert_name: Name | None = None
    duration: Duration | None = None
    city: City | None = None
    date: StartTime | None = None
    venue: Venue | None = None
    description: Description | None = None
    picture_id: PictureId | None = None

    @model_validator(mode="after")
    def _no_null_for_required(self) -> ConcertUpdate:
        nulls = [name for name in _NOT_NULL if name in self.model_fields_set]
        nulls = [name for name in nulls if getattr(self, name) is None]
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null")
        return self


class ConcertRead(BaseModel):
    id: int
    concert_name: str
    duration: int = Field(description="Minutes")
    city: str
    date: UTCDatetime = Field(description="Start, UTC")
    venue: str
    description: str
    picture_id: int | None
    created_at: UTCDatetime
    updated_at: UTCDatetime
    attending_count: int = Field(description='Users whose status is "Attending"')
    my_status: Status | None = Field(
        None, description='The caller\'s own status ("-" for none); null without a token'
    )

    @classmethod
    def build(cls, concert: Concert, attending_count: int, my_status: str | None) -> ConcertRead:
        return cls(**column_values(concert), attending_count=attending_count, my_status=my_status)


class AttendanceUpdate(StrictBody):
    status: Status = Field(description='"-" withdraws the answer')


class MyAttendance(BaseModel):
    """The caller's own answer about one concert."""

    concert_id: int
    status: Status
    updated_at: UTCDatetime | None = Field(description='Null while the status is "-"')
    attending_count: int


class MyConcert(BaseModel):
    """One concert the caller answered about, with the answer."""

    status: StoredStatus
    updated_at: UTCDatetime
    concert: ConcertRead


class Attendee(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    user_id: int
    status: StoredStatus
    updated_at: UTCDatetime
