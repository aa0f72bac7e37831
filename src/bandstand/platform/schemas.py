"""The schema primitives every service's request and response bodies are built from.

Text a client may send: only what both database engines can store and compare. PostgreSQL's
text types cannot hold NUL (asyncpg refuses it, a 500 if it gets that far), and neither engine a
lone surrogate (not UTF-8). Every service's request bodies and text query parameters use
`StorableText` (with the field's own constraints) or `StorableStr`, so such input is a
validation error naming the field.

`StorableText` takes the arguments of pydantic's `StringConstraints` and applies them first, so
whitespace is stripped and lengths are checked as usual:
`Annotated[str, StorableText(strip_whitespace=True, max_length=100)]`. Put constraints inside
it rather than in a second `StringConstraints` after it: pydantic applies string constraints
that follow a validator to its output, without stripping.

Dates and times exactly as their OpenAPI document says: pydantic's lax mode takes a JSON number
for a date or a date-time (seconds since the epoch), which the document (`"type": "string"`)
does not allow, and reads the text `"0"` as the epoch: `IsoDate` and `IsoDatetime` take only
ISO 8601 text (or the Python objects themselves). `UTCDatetime` is the form every response gives
a stored time in: aware, in UTC (SQLite hands times back without a zone, and a date-time without
an offset is not a JSON Schema `date-time`).

Money is a decimal with two places, never a float: `money` checks an amount and `MoneyText`
writes it as a decimal string (`"123.40"`). `StrictBody` is the base of a body that refuses
unknown fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

NUL_MESSAGE = "must not contain NUL characters"
UNICODE_MESSAGE = "must be valid Unicode text (no lone surrogates)"


def unstorable_reason(value: str) -> str | None:
    """Why `value` cannot be stored as text, or None when it can."""
    if "\x00" in value:
        return NUL_MESSAGE
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return UNICODE_MESSAGE
    return None


def storable(value: Any) -> Any:
    """`value` unchanged when it is storable text (or not text at all: None of an optional
    field); a ValueError, which pydantic reports against the field, when it is not."""
    if isinstance(value, str):
        reason = unstorable_reason(value)
        if reason is not None:
            raise ValueError(reason)
    return value


@dataclass(frozen=True)
class StorableText(StringConstraints):
    """`StringConstraints` followed by the storability check."""

    def __iter__(self) -> Iterator[Any]:
        yield from super().__iter__()
        yield AfterValidator(storable)


StorableStr = Annotated[str, StorableText()]
"""Any storable text, with no other constraint."""


class StrictBody(BaseModel):
    """Unknown fields are refused, so a client cannot smuggle an id, an owner, a role or a
    timestamp in."""

    model_config = ConfigDict(extra="forbid")


class ChangeBody(StrictBody):
    """A partial update: fields left out are kept; `changes()` is what was sent."""

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class PartialBody(ChangeBody):
    """A partial update (`ChangeBody`) in which a null sent for a field of `not_nullable`
    (`"*"`: every field) is refused, so null clears only an optional field."""

    not_nullable: ClassVar[tuple[str, ...] | Literal["*"]] = ()

    @field_validator("*")
    @classmethod
    def _required_stay_set(cls, value: Any, info: ValidationInfo) -> Any:
        # Runs for fields the client sent only: a left-out field keeps its default unvalidated.
        if value is None and (cls.not_nullable == "*" or info.field_name in cls.not_nullable):
            raise ValueError("cannot be null")
        return value


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken as UTC already. A ValueError (a validation
    error in a body) when the moment is out of range once converted."""
    if moment.tzinfo is None:
        # Not `replace(tzinfo=UTC)`: the same moment, several times cheaper, and every time
        # SQLite stores is read back naive and passes here once per listed row.
        return datetime.combine(moment, moment.time(), UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("is out of range once converted to UTC") from exc


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

CENT = Decimal("0.01")


def money(
    amount: Decimal,
    maximum: Decimal,
    *,
    not_finite: str = "must be a finite amount",
    too_precise: str = "must have at most two decimal places",
) -> Decimal:
    """`amount` to the cent, when it is finite, in [0, maximum] and has at most two decimal
    places; otherwise a ValueError saying why (a route may keep its own wording of the two
    messages its contract words differently)."""
    if not amount.is_finite():
        raise ValueError(not_finite)
    if amount < 0:
        raise ValueError("must not be negative")
    # Bounded before quantizing: a quantized 1e300 exceeds the context's precision and raises.
    if amount > maximum:
        raise ValueError(f"must be at most {maximum}")
    cents = amount.quantize(CENT)
    if cents != amount:
        raise ValueError(too_precise)
    return cents.copy_abs()  # "-0" is zero, written "0.00"


def money_text(amount: Decimal) -> str:
    """An amount as a decimal string with two places."""
    return f"{amount:.2f}"


MoneyText = Annotated[Decimal, PlainSerializer(money_text, return_type=str)]
"""An amount written as a decimal string with two places (`"123.40"`), never a float."""


def iso_utc(moment: datetime) -> str:
    """`moment` as ISO 8601 text in UTC with a `Z` (a naive one is taken as UTC already), the
    form event payloads carry times in."""
    return as_utc(moment).isoformat().replace("+00:00", "Z")
