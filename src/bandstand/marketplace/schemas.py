"""Marketplace's request and response bodies. No client field can set an id or a timestamp.

The field rules are the inherited contract's (B): `name` ≤500, `price` decimal(10,2) or null,
`link` ≤1000 and unique, `website` ≤500, `image` ≤1000, `location` ≤500, `category` ≤200,
`expiration` and `publish` dates `YYYY-MM-DD` or null. The import reads its rows with the same
rules (`InstrumentCreate`), so a listing refused by the API is refused by the import too.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    model_validator,
)

from bandstand.marketplace.models import (
    CATEGORY_MAX,
    IMAGE_MAX,
    LINK_MAX,
    LOCATION_MAX,
    NAME_MAX,
    PRICE_MAX,
    WEBSITE_MAX,
    Instrument,
)
from bandstand.platform.schemas import (
    ChangeBody,
    MoneyText,
    StorableText,
    StrictBody,
    UTCDatetime,
    money,
)

Ordering = Literal["price", "-price", "publish", "-publish", "relevance"]
CURRENCY_MARKS = "€$£"


def _decimal_point(text: str) -> str:
    """`1.234,56` and `1,234.56` as `1234.56`; a lone comma is a decimal comma (`120,50`)."""
    if "," in text and "." in text:
        thousands = "." if text.rfind(",") > text.rfind(".") else ","
        text = text.replace(thousands, "")
    return text.replace(",", ".") if text.count(",") == 1 else text


def parse_price(value: Any) -> Decimal | None:
    """A price of at most two decimals in [0, 99999999.99]; null stays null.

    Text may carry a currency mark (`€ 120`, `120$`), a decimal comma (`120,50`) and thousands
    separators (`2.500,00`), as the scraped sites write prices.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("must be a number")
    if isinstance(value, int | float | Decimal):
        text = str(value)
    elif isinstance(value, str):
        text = _decimal_point(value.strip().strip(CURRENCY_MARKS).strip())
    else:
        raise ValueError("must be a number")
    try:
        price = Decimal(text)
    except (InvalidOperation, ValueError):
        raise ValueError("must be a number") from None
    return money(
        price,
        PRICE_MAX,
        not_finite="must be a finite number",
        too_precise="must have at most 2 decimal places",
    )


def parse_date(value: Any) -> date | None:
    """A date written `YYYY-MM-DD`; null stays null."""
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError("must be a date written YYYY-MM-DD")


Name = Annotated[str, StorableText(strip_whitespace=True, min_length=1, max_length=NAME_MAX)]
Link = Annotated[str, StorableText(strip_whitespace=True, min_length=1, max_length=LINK_MAX)]
Website = Annotated[str, StorableText(strip_whitespace=True, max_length=WEBSITE_MAX)]
Image = Annotated[str, StorableText(strip_whitespace=True, max_length=IMAGE_MAX)]
Location = Annotated[str, StorableText(strip_whitespace=True, max_length=LOCATION_MAX)]
Category = Annotated[str, StorableText(strip_whitespace=True, max_length=CATEGORY_MAX)]
Price = Annotated[
    Decimal | None,
    PlainValidator(parse_price, json_schema_input_type=str | float | None),
    Field(description='Decimal with 2 places, e.g. "123.45"'),
]
ListingDate = Annotated[date | None, PlainValidator(parse_date, json_schema_input_type=str | None)]
PriceText = Annotated[
    MoneyText | None, Field(description='Decimal string with 2 places, e.g. "123.45"')
]


class InstrumentCreate(StrictBody):
    name: Name
    price: Price = None
    link: Link
    image: Image | None = None
    location: Location | None = None
    category: Category | None = None
    expiration: ListingDate = None
    publish: ListingDate = None
    website: Website


_NOT_NULL = ("name", "link", "website")


class InstrumentUpdate(ChangeBody):
    """A partial change: only the fields sent change; the optional ones may be set to null."""

    name: Name | None = None
    price: Price = None
    link: Link | None = None
    image: Image | None = None
    location: Location | None = None
    category: Category | None = None
    expiration: ListingDate = None
    publish: ListingDate = None
    website: Website | None = None

    @model_validator(mode="after")
    def _no_null_for_required(self) -> InstrumentUpdate:
        nulls = [n for n in _NOT_NULL if n in self.model_fields_set and getattr(self, n) is None]
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null")
        return self


class LegacyInstrument(BaseModel):
    """The inherited shape: exactly the contract's fields."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    price: PriceText
    link: str
    image: str | None
    location: str | None
    category: str | None
    expiration: date | None
    publish: date | None
    website: str


class InstrumentRead(LegacyInstrument):
    created_at: UTCDatetime
    updated_at: UTCDatetime

    @classmethod
    def of(cls, instrument: Instrument) -> InstrumentRead:
        return cls.model_validate(instrument)


class LegacyPage(BaseModel):
    """The inherited page: 50 per page, with the page count and the current page."""

    next: str | None
    previous: str | None
    count: int
    total_pages: int
    current_page: int
    results: list[LegacyInstrument]


class CategoryCount(BaseModel):
    category: str
    count: int


class Categories(BaseModel):
    results: list[CategoryCount]


class RowProblem(BaseModel):
    line: int = Field(description="1-based line of the file where the row starts")
    field: str | None = Field(description="The field at fault; null when the row is unreadable")
    message: str


class ImportSummary(BaseModel):
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    problems: list[RowProblem] = Field(
        description="The rejected rows' problems (the first ones, when there are very many)"
    )
