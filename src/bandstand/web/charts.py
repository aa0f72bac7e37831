"""Charts drawn on the server as inline SVG: no script, no style attribute (the pages'
Content-Security-Policy allows neither), colours from `app.css` (`.chart-*` classes).

Each chart is a `<figure>`: the SVG (`role="img"`, a `<title>` and an `aria-label` that says
what it shows) and, in a `<details>`, the same figures as a table for those who cannot see it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from itertools import count

from markupsafe import Markup, escape

Point = tuple[str, float]
"""A label (a category or a date) and its value."""
Format = Callable[[float], str]

BAR_WIDTH = 420
BAR_ROW = 54
BAR_THICKNESS = 18
LINE_WIDTH = 480
LINE_HEIGHT = 220
MARGIN_LEFT = 40
MARGIN_RIGHT = 16
MARGIN_TOP = 16
MARGIN_BOTTOM = 34
LABEL_CHARACTERS = 40
DOTS_UP_TO = 14
"""Up to this many points each gets a dot; beyond, only those above zero."""
_ids = count(1)


def plain(value: float) -> str:
    """A value as people write it: no ".0" on whole numbers, at most two decimals."""
    return f"{value:,.2f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value):,}"


def percent(value: float) -> str:
    return f"{plain(round(value, 1))}%"


def bar_chart(
    points: Sequence[Point],
    *,
    title: str,
    label_heading: str = "Item",
    value_heading: str = "Value",
    value_format: Format = plain,
    max_value: float | None = None,
    chart_id: str | None = None,
) -> Markup:
    """Horizontal bars, one row per point, its label above it (long labels fit a phone).
    Negative values are drawn left of a zero line; `max_value` fixes the scale (100 for
    percentages) instead of the largest value."""
    ident = _identifier(chart_id, title)
    values = [value for _, value in points]
    low = min([0.0, *values])
    high = max([0.0, *values, max_value or 0.0])
    if high == low:
        high = low + 1
    value_room = 64
    plot = BAR_WIDTH - value_room

    def x(value: float) -> float:
        return (value - low) / (high - low) * plot

    zero = x(0.0)
    height = max(1, len(points)) * BAR_ROW + 8
    parts = [_svg_open(ident, title, _summary(points, value_format), BAR_WIDTH, height)]
    for index, (label, value) in enumerate(points):
        top = index * BAR_ROW
        start, end = sorted((x(0.0), x(value)))
        bar_top = top + 26
        parts.append(
            f'<text class="chart-label" x="0" y="{top + 17}">{escape(_short(label))}</text>'
            f'<rect class="chart-track" x="0" y="{bar_top}" width="{plot:.1f}" '
            f'height="{BAR_THICKNESS}" rx="3"></rect>'
            f'<rect class="chart-bar{" chart-bar-negative" if value < 0 else ""}" '
            f'x="{start:.1f}" y="{bar_top}" width="{max(end - start, 0):.1f}" '
            f'height="{BAR_THICKNESS}" rx="3"><title>{escape(label)}: '
            f"{escape(value_format(value))}</title></rect>"
            f'<text class="chart-value" x="{plot + 8}" y="{bar_top + 15}">'
            f"{escape(value_format(value))}</text>"
        )
    if low < 0:
        parts.append(
            f'<line class="chart-zero" x1="{zero:.1f}" x2="{zero:.1f}" y1="16" '
            f'y2="{height - 4}"></line>'
        )
    if not points:
        parts.append('<text class="chart-label" x="0" y="24">No data</text>')
    parts.append("</svg>")
    return _figure(ident, parts, points, label_heading, value_heading, value_format)


def line_chart(
    points: Sequence[Point],
    *,
    title: str,
    label_heading: str = "Date",
    value_heading: str = "Value",
    value_format: Format = plain,
    chart_id: str | None = None,
) -> Markup:
    """A line over the points in order (e.g. one per day), the area under it shaded, whole-
    number gridlines on the left and the first, middle and last labels along the bottom."""
    ident = _identifier(chart_id, title)
    values = [value for _, value in points]
    high = _nice_ceiling(max([0.0, *values]))
    plot_width = LINE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_height = LINE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    bottom = MARGIN_TOP + plot_height
    step = plot_width / max(1, len(points) - 1)

    def xy(index: int, value: float) -> tuple[float, float]:
        return MARGIN_LEFT + index * step, bottom - value / high * plot_height

    parts = [_svg_open(ident, title, _summary(points, value_format), LINE_WIDTH, LINE_HEIGHT)]
    for tick in _ticks(high):
        y = bottom - tick / high * plot_height
        parts.append(
            f'<line class="chart-grid" x1="{MARGIN_LEFT}" x2="{LINE_WIDTH - MARGIN_RIGHT}" '
            f'y1="{y:.1f}" y2="{y:.1f}"></line>'
            f'<text class="chart-axis" x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" '
            f'text-anchor="end">{escape(value_format(tick))}</text>'
        )
    if points:
        coordinates = [xy(index, value) for index, (_, value) in enumerate(points)]
        line = " ".join(f"{px:.1f},{py:.1f}" for px, py in coordinates)
        first_x, last_x = coordinates[0][0], coordinates[-1][0]
        parts.append(
            f'<polygon class="chart-area" points="{first_x:.1f},{bottom} {line} '
            f'{last_x:.1f},{bottom}"></polygon>'
            f'<polyline class="chart-line" points="{line}"></polyline>'
        )
        for (label, value), (px, py) in zip(points, coordinates, strict=True):
            if value <= 0 and len(points) > DOTS_UP_TO:
                continue
            parts.append(
                f'<circle class="chart-dot" cx="{px:.1f}" cy="{py:.1f}" r="3.5">'
                f"<title>{escape(label)}: {escape(value_format(value))}</title></circle>"
            )
        shown = sorted({0, (len(points) - 1) // 2, len(points) - 1})
        anchors = {0: "start", len(points) - 1: "end"}
        for index in shown:
            px = coordinates[index][0]
            anchor = anchors.get(index, "middle")
            parts.append(
                f'<text class="chart-axis" x="{px:.1f}" y="{LINE_HEIGHT - 10}" '
                f'text-anchor="{anchor}">{escape(points[index][0])}</text>'
            )
    else:
        parts.append(f'<text class="chart-label" x="{MARGIN_LEFT}" y="40">No data</text>')
    parts.append(
        f'<line class="chart-baseline" x1="{MARGIN_LEFT}" x2="{LINE_WIDTH - MARGIN_RIGHT}" '
        f'y1="{bottom}" y2="{bottom}"></line></svg>'
    )
    return _figure(ident, parts, points, label_heading, value_heading, value_format)


def _identifier(chart_id: str | None, title: str) -> str:
    """An id unique in the page: the caller's, or one made from the title."""
    if chart_id:
        return chart_id
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "chart"
    return f"chart-{slug}-{next(_ids)}"


def _svg_open(ident: str, title: str, summary: str, width: int, height: int) -> str:
    label = f"{title}. {summary}"
    return (
        f'<svg class="chart-svg" role="img" aria-label="{escape(label)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{ident}-title">{escape(title)}</title>'
    )


def _summary(points: Sequence[Point], value_format: Format) -> str:
    """One sentence for screen readers: how many points, the highest and the lowest."""
    if not points:
        return "No data."
    highest = max(points, key=lambda point: point[1])
    lowest = min(points, key=lambda point: point[1])
    noun = "value" if len(points) == 1 else "values"
    return (
        f"{len(points)} {noun}; highest {value_format(highest[1])} ({highest[0]}), "
        f"lowest {value_format(lowest[1])} ({lowest[0]}). The table below lists them all."
    )


def _figure(
    ident: str,
    svg: list[str],
    points: Sequence[Point],
    label_heading: str,
    value_heading: str,
    value_format: Format,
) -> Markup:
    rows = "".join(
        f"<tr><td>{escape(label)}</td><td>{escape(value_format(value))}</td></tr>"
        for label, value in points
    )
    table = (
        f'<details class="chart-data"><summary>The figures as a table</summary>'
        f'<div class="table-wrap"><table><thead><tr><th scope="col">{escape(label_heading)}</th>'
        f'<th scope="col">{escape(value_heading)}</th></tr></thead><tbody>{rows}</tbody>'
        f"</table></div></details>"
    )
    return Markup(f'<figure class="chart" id="{ident}">{"".join(svg)}{table}</figure>')  # noqa: S704 (every value in it was escaped)


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARACTERS else label[: LABEL_CHARACTERS - 1] + "…"


def _nice_ceiling(value: float) -> float:
    """The scale's top: 1, 2, 5 or 10 times a power of ten, at least `value` (1 when zero)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for factor in (1, 2, 5, 10):
        if factor * power >= value:
            return float(factor * power)
    return float(10 * power)


def _ticks(high: float) -> list[float]:
    """Gridlines from zero to the top (a `_nice_ceiling`), on whole numbers when it is small."""
    if high <= 5:
        steps = max(1, int(high))
    else:
        leading = round(high / 10 ** math.floor(math.log10(high)))
        steps = 4 if leading == 2 else 5
    return [high * index / steps for index in range(steps + 1)]
