"""Bar charts of daily figures as server-rendered inline SVG (drawn by `admin/_chart.html`).

The geometry is computed here; the template writes the markup with `role="img"`, a `<title>`,
an `aria-label` and the same figures as a table in a `<details>` for those who cannot see it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

WIDTH = 400
HEIGHT = 190
LEFT = 36
RIGHT = 6
TOP = 10
BOTTOM = 26
TICKS = 4


@dataclass(frozen=True)
class Bar:
    label: str
    short: str
    """The day as the axis writes it ("5 Nov")."""
    value: float
    shown: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class BarChart:
    ident: str
    title: str
    summary: str
    unit: str
    bars: list[Bar]
    ticks: list[Tick]
    labelled: list[Bar]
    """The bars whose day is written under the axis (every few, so they do not overlap)."""
    empty: bool = False
    """Every value is zero: the chart says so rather than show an empty frame."""
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    baseline: float = HEIGHT - BOTTOM


def _nice_top(largest: float) -> float:
    """The axis' top: a round number at or above the largest value."""
    if largest <= 0:
        return float(TICKS)
    step = largest / TICKS
    magnitude = 10 ** (len(str(int(step))) - 1) if step >= 1 else 1
    for factor in (1, 2, 5, 10):
        if step <= factor * magnitude:
            return factor * magnitude * TICKS
    return largest


def _short_day(label: str) -> str:
    try:
        day = date.fromisoformat(label)
    except ValueError:
        return label
    return f"{day.day} {day:%b}"


def _figure(value: float) -> str:
    return f"{value:,.2f}" if value != int(value) else f"{int(value):,}"


def bar_chart(
    ident: str, title: str, points: Sequence[tuple[str, float]], unit: str = ""
) -> BarChart:
    """A chart of `points` (label, value), oldest first."""
    top = _nice_top(max((value for _, value in points), default=0))
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    slot = plot_width / max(len(points), 1)
    bars = []
    for index, (label, value) in enumerate(points):
        height = plot_height * value / top
        bars.append(
            Bar(
                label=label,
                short=_short_day(label),
                value=value,
                shown=_figure(value),
                x=round(LEFT + index * slot + slot * 0.15, 2),
                y=round(TOP + plot_height - height, 2),
                width=round(slot * 0.7, 2),
                height=round(height, 2),
            )
        )
    ticks = [
        Tick(
            y=round(TOP + plot_height - plot_height * step / TICKS, 2),
            label=_figure(top * step / TICKS),
        )
        for step in range(TICKS + 1)
    ]
    every = max(1, len(bars) // 5)
    labelled = [bar for index, bar in enumerate(bars) if index % every == 0]
    total = sum(value for _, value in points)
    first = points[0][0] if points else ""
    last = points[-1][0] if points else ""
    summary = (
        f"{title}: {_figure(total)}{unit} in all from {first} to {last}, "
        f"at most {_figure(max((v for _, v in points), default=0))}{unit} a day."
    )
    empty = not any(value for _, value in points)
    return BarChart(ident, title, summary, unit, bars, ticks, labelled, empty)
