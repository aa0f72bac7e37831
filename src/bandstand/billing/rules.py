"""The business rules the worker applies to an order: what it accepts, and its tax lines.

The API checks only the shape of an order (an amount, a positive count, a three-letter currency);
these rules decide whether it can be billed. They live apart from any I/O so that both the worker
and the tests apply exactly the same ones.

Tax rule: amounts are gross, value-added tax included, as shoppers see prices. The rate depends
on the currency the order is billed in (`TAX_RATES`). The net amount is the gross amount divided
by (1 + rate), rounded half-even to the cent; the tax is the rest, so net + tax is always exactly
the total and no cent is created or lost by rounding.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")
TAX_RATES: dict[str, Decimal] = {
    "EUR": Decimal("0.20"),
    "GBP": Decimal("0.20"),
    "CHF": Decimal("0.081"),
    "USD": Decimal("0.00"),
}
"""Supported currencies and their tax rate (a fraction of the net amount)."""
MAX_ORDER_TOTAL = Decimal("100000.00")
"""The largest order billed in one go; a larger one fails and needs a manual invoice."""
MAX_ITEMS = 10_000


class OrderRejected(ValueError):
    """The order breaks a business rule; the message says which one."""


@dataclass(frozen=True)
class TaxLines:
    rate: Decimal
    net_amount: Decimal
    tax_amount: Decimal
    total_amount: Decimal


def tax_lines(total_amount: Decimal, currency: str) -> TaxLines:
    """Split a gross `total_amount` into net and tax in `currency`'s rate."""
    rate = TAX_RATES.get(currency)
    if rate is None:
        raise OrderRejected(f"currency {currency} is not supported")
    total = total_amount.quantize(CENT, rounding=ROUND_HALF_EVEN)
    net = (total / (1 + rate)).quantize(CENT, rounding=ROUND_HALF_EVEN)
    return TaxLines(rate=rate, net_amount=net, tax_amount=total - net, total_amount=total)


def check_order(number_of_items: int, total_amount: Decimal, currency: str) -> TaxLines:
    """The tax lines of a billable order; raises `OrderRejected` naming the broken rule."""
    if number_of_items < 1:
        raise OrderRejected("number_of_items must be at least 1")
    if number_of_items > MAX_ITEMS:
        raise OrderRejected(f"number_of_items exceeds the limit of {MAX_ITEMS} per order")
    if not total_amount.is_finite() or total_amount < 0:
        raise OrderRejected("total_amount must be a non-negative amount")
    if total_amount != total_amount.quantize(CENT):
        raise OrderRejected("total_amount must have at most two decimal places")
    if total_amount > MAX_ORDER_TOTAL:
        raise OrderRejected(f"total_amount exceeds the limit of {MAX_ORDER_TOTAL} per order")
    return tax_lines(total_amount, currency)
