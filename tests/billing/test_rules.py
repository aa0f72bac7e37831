"""The tax rule and the business checks the worker applies."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bandstand.billing.rules import (
    MAX_ORDER_TOTAL,
    TAX_RATES,
    OrderRejected,
    check_order,
    tax_lines,
)


@pytest.mark.parametrize(
    ("total", "currency", "net", "tax"),
    [
        ("99.97", "EUR", "83.31", "16.66"),
        ("120.00", "EUR", "100.00", "20.00"),
        ("0.01", "EUR", "0.01", "0.00"),
        ("0.00", "GBP", "0.00", "0.00"),
        ("10.81", "CHF", "10.00", "0.81"),
        ("99.97", "USD", "99.97", "0.00"),
    ],
)
def test_tax_lines_examples(total: str, currency: str, net: str, tax: str) -> None:
    lines = tax_lines(Decimal(total), currency)
    assert lines.net_amount == Decimal(net)
    assert lines.tax_amount == Decimal(tax)
    assert lines.rate == TAX_RATES[currency]


@given(
    cents=st.integers(min_value=0, max_value=int(MAX_ORDER_TOTAL * 100)),
    currency=st.sampled_from(sorted(TAX_RATES)),
)
def test_net_plus_tax_is_the_total_to_the_cent(cents: int, currency: str) -> None:
    total = Decimal(cents) / 100
    lines = tax_lines(total, currency)
    assert lines.net_amount + lines.tax_amount == total
    assert lines.tax_amount >= 0
    # The net amount is the nearest cent to total / (1 + rate).
    exact = total / (1 + lines.rate)
    assert abs(lines.net_amount - exact) <= Decimal("0.005")


@pytest.mark.parametrize(
    ("items", "total", "currency", "reason"),
    [
        (0, "1.00", "EUR", "number_of_items must be at least 1"),
        (10_001, "1.00", "EUR", "number_of_items exceeds the limit of 10000 per order"),
        (1, "-1.00", "EUR", "total_amount must be a non-negative amount"),
        (1, "1.001", "EUR", "total_amount must have at most two decimal places"),
        (1, "100000.01", "EUR", "total_amount exceeds the limit of 100000.00 per order"),
        (1, "1.00", "JPY", "currency JPY is not supported"),
    ],
)
def test_rejected_orders_say_why(items: int, total: str, currency: str, reason: str) -> None:
    with pytest.raises(OrderRejected) as caught:
        check_order(items, Decimal(total), currency)
    assert str(caught.value) == reason


def test_the_largest_order_passes() -> None:
    lines = check_order(10_000, MAX_ORDER_TOTAL, "EUR")
    assert lines.total_amount == MAX_ORDER_TOTAL
