"""The console's dashboard: the platform's figures of the last days as charts, and links."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.responses import Response

from bandstand.web.pages.admin.charts import BarChart, bar_chart
from bandstand.web.visit import PageVisit


def _counts(days: list[dict[str, Any]]) -> list[tuple[str, float]]:
    return [(str(day["date"]), float(day.get("count", 0))) for day in days]


def _amount(text: Any) -> Decimal:
    try:
        return Decimal(str(text))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def revenue_charts(days: list[dict[str, Any]]) -> list[BarChart]:
    """One chart of revenue per currency that had any (EUR when none had)."""
    currencies = sorted({code for day in days for code in (day.get("revenue") or {})}) or ["EUR"]
    return [
        bar_chart(
            f"revenue-{code.lower()}",
            f"Revenue per day ({code})",
            [
                (str(day["date"]), float(_amount((day.get("revenue") or {}).get(code, 0))))
                for day in days
            ],
            unit=f" {code}",
        )
        for code in currencies
    ]


async def dashboard(visit: PageVisit) -> Response:
    visit.admin()
    figures = await visit.get("/api/v1/dashboard")
    charts = [
        bar_chart(
            "registrations", "Registrations per day", _counts(figures["registrations_per_day"])
        ),
        bar_chart("logins", "Logins per day", _counts(figures["logins_per_day"])),
        bar_chart("orders", "Completed orders per day", _counts(figures["orders_per_day"])),
        *revenue_charts(figures["orders_per_day"]),
        bar_chart("enrolments", "Enrolments per day", _counts(figures["enrolments_per_day"])),
    ]
    return visit.page("admin/dashboard.html", figures=figures, charts=charts)
