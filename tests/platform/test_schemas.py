"""The kernel's schema primitives: storable text (NUL and lone surrogates refused, the field's
own constraints applied as `StringConstraints` would apply them, optional fields left optional),
strict bodies, money to the cent, and times in UTC."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Annotated

import pytest
from pydantic import BaseModel, ValidationError

from bandstand.platform.clock import utcnow
from bandstand.platform.schemas import (
    IsoDate,
    MoneyText,
    PartialBody,
    StorableStr,
    StorableText,
    StrictBody,
    UTCDatetime,
    as_utc,
    iso_utc,
    money,
    money_text,
    unstorable_reason,
)


class Body(BaseModel):
    name: Annotated[str, StorableText(strip_whitespace=True, min_length=1, max_length=5)]
    code: Annotated[str, StorableText(pattern=r"^[a-z]+$")] = "a"
    note: Annotated[str, StorableText(max_length=3)] | None = None
    free: StorableStr = ""


def _error(**fields: object) -> tuple[str, str]:
    with pytest.raises(ValidationError) as caught:
        Body.model_validate({"name": "ok", **fields})
    (error,) = caught.value.errors()
    return ".".join(str(part) for part in error["loc"]), error["type"]


@pytest.mark.parametrize("bad", ["a\x00b", "\x00", "a\ud800", "\udfff"])
@pytest.mark.parametrize("field", ["name", "note", "free"])
def test_unstorable_text_is_an_error_on_its_field(field: str, bad: str) -> None:
    location, kind = _error(**{field: bad})
    assert location.startswith(field)
    assert kind in {"value_error", "string_unicode"}


def test_the_fields_own_constraints_apply_first() -> None:
    body = Body.model_validate({"name": "  abcde  ", "code": "xyz", "note": None, "free": "ü🎸"})
    assert (body.name, body.code, body.note, body.free) == ("abcde", "xyz", None, "ü🎸")
    assert _error(name="abcdef") == ("name", "string_too_long")
    assert _error(name="   ") == ("name", "string_too_short")
    assert _error(code="A") == ("code", "string_pattern_mismatch")
    assert _error(note="abcd")[1] == "string_too_long"


def test_the_json_schema_keeps_the_constraints() -> None:
    properties = Body.model_json_schema()["properties"]
    assert (properties["name"]["minLength"], properties["name"]["maxLength"]) == (1, 5)
    assert properties["code"]["pattern"] == "^[a-z]+$"


def test_reasons() -> None:
    assert unstorable_reason("Zoë 🎸") is None
    assert unstorable_reason("a\x00") == "must not contain NUL characters"
    assert unstorable_reason("\ud800") is not None


class Priced(StrictBody):
    amount: MoneyText
    optional: MoneyText | None = None
    at: UTCDatetime | None = None
    day: IsoDate | None = None


def test_a_strict_body_refuses_unknown_fields() -> None:
    with pytest.raises(ValidationError) as caught:
        Priced.model_validate({"amount": "1", "id": 7})
    assert caught.value.errors()[0]["type"] == "extra_forbidden"


def test_money_is_written_with_two_places() -> None:
    body = Priced(amount=Decimal("3.5"))
    assert body.model_dump(mode="json")["amount"] == "3.50"
    assert body.model_dump()["optional"] is None
    assert Priced.model_json_schema(mode="serialization")["properties"]["amount"]["type"] == (
        "string"
    )


@pytest.mark.parametrize(
    ("given", "expected"), [("0", "0.00"), ("-0", "0.00"), ("-0.00", "0.00"), ("12.3", "12.30")]
)
def test_money_to_the_cent(given: str, expected: str) -> None:
    assert money_text(money(Decimal(given), Decimal("100"))) == expected


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("NaN", "must be a finite amount"),
        ("Infinity", "must be a finite amount"),
        ("-0.01", "must not be negative"),
        ("100.01", "must be at most 100"),
        ("1e300", "must be at most 100"),
        ("1.001", "must have at most two decimal places"),
    ],
)
def test_money_says_what_is_wrong(given: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)) as caught:
        money(Decimal(given), Decimal("100"))
    assert str(caught.value) == reason


def test_a_route_may_word_its_money_messages_itself() -> None:
    with pytest.raises(ValueError, match="finite number") as caught:
        money(Decimal("NaN"), Decimal("1"), not_finite="must be a finite number")
    assert str(caught.value) == "must be a finite number"
    with pytest.raises(ValueError, match="two places at most") as caught:
        money(Decimal("0.001"), Decimal("1"), too_precise="two places at most")
    assert str(caught.value) == "two places at most"


def test_times_are_given_in_utc() -> None:
    naive = datetime(2024, 5, 1, 12, 30)
    paris = datetime(2024, 5, 1, 14, 30, tzinfo=timezone(timedelta(hours=2)))
    assert as_utc(naive) == as_utc(paris) == datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    assert as_utc(paris).tzinfo is UTC
    assert iso_utc(naive) == iso_utc(paris) == "2024-05-01T12:30:00Z"
    assert Priced(amount=Decimal(1), at=naive).at == as_utc(naive)
    assert utcnow().tzinfo is UTC


def test_a_time_out_of_range_in_utc_is_a_validation_error() -> None:
    edge = datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    with pytest.raises(ValueError, match="out of range"):
        as_utc(edge)
    with pytest.raises(ValidationError):
        Priced(amount=Decimal(1), at=edge)


@pytest.mark.parametrize("given", [0, 1700000000, "0"])
def test_a_date_is_iso_text_only(given: object) -> None:
    with pytest.raises(ValidationError):
        Priced.model_validate({"amount": "1", "day": given})
    assert Priced.model_validate({"amount": "1", "day": "2024-02-29"}).day == date(2024, 2, 29)


class Change(PartialBody):
    not_nullable = ("name",)

    name: Annotated[str, StorableText(max_length=5)] | None = None
    note: str | None = None


class EveryField(PartialBody):
    not_nullable = "*"

    name: str | None = None


def test_a_partial_body_keeps_what_was_left_out_and_refuses_a_required_null() -> None:
    assert Change.model_validate({"note": None}).changes() == {"note": None}
    assert Change.model_validate({}).changes() == {}
    for model, body in ((Change, {"name": None}), (EveryField, {"name": None})):
        with pytest.raises(ValidationError) as caught:
            model.model_validate(body)
        (error,) = caught.value.errors()
        assert (error["loc"], error["msg"]) == (("name",), "Value error, cannot be null")
