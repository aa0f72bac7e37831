"""Billing's request and response bodies. No client field can set an id, status or timestamp.

User ids are identity's integers. The streaming platform's clients sent them as strings such as
`"usr_123"`: the inherited shape is accepted as well, as an integer, a string of digits, or
`usr_` followed by digits, all meaning the same user.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator

from bandstand.billing.models import AMOUNT_DIGITS, MAX_ID, Order
from bandstand.platform.schemas import MoneyText, StorableText, StrictBody, UTCDatetime, money

MAX_ITEMS_PER_ORDER = 1_000_000
MAX_AMOUNT = Decimal(10 ** (AMOUNT_DIGITS - 2)) - Decimal("0.01")
_USER_ID = re.compile(r"(?:usr_)?([0-9]{1,10})")
_CURRENCY = re.compile(r"[A-Za-z]{3}")
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")

OrderStatus = Literal["pending", "completed", "failed"]


def parse_user_id(value: Any) -> int:
    """An integer user id from an integer, a digit string or `usr_<digits>`."""
    if isinstance(value, bool):
        raise ValueError("must be a user id (an integer, or a string like 'usr_123')")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and (match := _USER_ID.fullmatch(value.strip())):
        number = int(str(match.group(1)))
    else:
        raise ValueError("must be a user id (an integer, or a string like 'usr_123')")
    if not 1 <= number <= MAX_ID:
        raise ValueError(f"must be between 1 and {MAX_ID}")
    return number


def parse_items(value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be a whole number")
    number: int = value
    if not 1 <= number <= MAX_ITEMS_PER_ORDER:
        raise ValueError(f"must be between 1 and {MAX_ITEMS_PER_ORDER}")
    return number


def parse_amount(value: Any) -> Decimal:
    """A non-negative amount with at most two decimal places, from a JSON number or string."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError("must be an amount such as 99.97")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError("must be an amount such as 99.97") from exc
    return money(amount, MAX_AMOUNT)


def parse_currency(value: Any) -> str:
    if not isinstance(value, str) or not _CURRENCY.fullmatch(value.strip()):
        raise ValueError("must be a three-letter ISO 4217 code such as EUR")
    return value.strip().upper()


def parse_idempotency_key(value: str | None) -> str | None:
    """The `Idempotency-Key` header: 1 to 255 visible ASCII characters, or absent."""
    if value is None:
        return None
    if not _IDEMPOTENCY_KEY.fullmatch(value):
        raise ValueError("must be 1 to 255 visible ASCII characters")
    return value


UserId = Annotated[
    int,
    PlainValidator(parse_user_id, json_schema_input_type=int | str),
    Field(description="The billed user: their own id by default (an admin may bill anyone)"),
]
Items = Annotated[int, PlainValidator(parse_items, json_schema_input_type=int), Field(ge=1)]
AmountIn = Annotated[
    Decimal,
    PlainValidator(parse_amount, json_schema_input_type=float | str),
    Field(description="Gross amount, taxes included, at most two decimal places"),
]
Currency = Annotated[str, PlainValidator(parse_currency, json_schema_input_type=str)]


class OrderCreate(BaseModel):
    """A new order. Fields the client may not set (id, status, times) are ignored."""

    model_config = ConfigDict(extra="ignore")

    user_id: UserId | None = None
    number_of_items: Items
    total_amount: AmountIn
    currency: Currency = "EUR"

    def fingerprint(self, user_id: int) -> dict[str, Any]:
        """What an Idempotency-Key is bound to: the same key must come with the same order."""
        return {
            "user_id": user_id,
            "number_of_items": self.number_of_items,
            "total_amount": f"{self.total_amount:.2f}",
            "currency": self.currency,
        }


class OrderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    user_id: int
    number_of_items: int
    total_amount: MoneyText
    currency: str
    status: OrderStatus
    created_at: UTCDatetime
    processed_at: UTCDatetime | None
    failure_reason: str | None
    tax_rate: Decimal | None = Field(description="Tax rate applied, once processed")
    net_amount: MoneyText | None = Field(description="Amount before tax, once processed")
    tax_amount: MoneyText | None = Field(description="Tax included in total_amount, once processed")

    @classmethod
    def of(cls, order: Order) -> OrderRead:
        return cls.model_validate(order)


class OrderAccepted(BaseModel):
    """The streaming platform's 202 body."""

    message: Literal["Message posted"] = "Message posted"
    order_id: uuid.UUID
    status: OrderStatus


class DeadLetter(BaseModel):
    message_id: str
    type: str | None = Field(description="None when the body is not a message (`malformed`)")
    occurred_at: datetime | None
    order_id: str | None
    payload: dict[str, Any] | None
    malformed: bool = Field(
        False, description="The body is not a message: kept here, listed with its raw `body`"
    )
    error: str | None = Field(None, description="Why the body could not be read")
    body: str | None = Field(None, description="The raw body of a malformed message")


class DeadLetters(BaseModel):
    queue: str
    count: int
    results: list[DeadLetter]


class RedriveRequest(StrictBody):
    message_ids: list[Annotated[str, StorableText(min_length=1, max_length=64)]] | None = Field(
        default=None, max_length=1000, description="Only these messages; all when omitted"
    )


class RedriveResult(BaseModel):
    redriven: int
    message_ids: list[str]
