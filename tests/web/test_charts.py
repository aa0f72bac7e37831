"""The server-rendered charts: accessible, escaped, and allowed by the pages' CSP."""

from __future__ import annotations

import re

from bandstand.web.charts import bar_chart, line_chart, percent, plain


def test_a_bar_chart_is_an_image_with_a_title_a_label_and_a_table() -> None:
    chart = str(
        bar_chart(
            [("1. <Intro>", 100.0), ("2. Scales", 62.5)],
            title="Completion per lesson",
            label_heading="Lesson",
            value_heading="Done by",
            value_format=percent,
            max_value=100,
        )
    )
    assert 'role="img"' in chart
    assert re.search(r'aria-label="Completion per lesson\. 2 values; highest 100% ', chart)
    assert re.search(r"<title id=\"[^\"]+\">Completion per lesson</title>", chart)
    assert "<details" in chart
    assert '<th scope="col">Done by</th>' in chart
    assert "<td>2. Scales</td><td>62.5%</td>" in chart
    assert "&lt;Intro&gt;" in chart
    assert "<Intro>" not in chart
    assert "style=" not in chart


def test_negative_bars_go_left_of_a_zero_line() -> None:
    chart = str(bar_chart([("a", 10.0), ("b", -5.0)], title="Drop-off"))
    assert "chart-bar-negative" in chart
    assert 'class="chart-zero"' in chart


def test_a_line_chart_of_days_and_of_nothing() -> None:
    days = [(f"{day:02d} Nov", float(day % 3)) for day in range(1, 31)]
    chart = str(line_chart(days, title="Enrolments per day", value_heading="Enrolments"))
    assert 'role="img"' in chart
    assert "<polyline" in chart
    assert chart.count("<tr>") == 31
    assert "style=" not in chart
    empty = str(line_chart([], title="Nothing yet"))
    assert "No data" in empty


def test_each_chart_has_its_own_id() -> None:
    first, second = str(bar_chart([], title="Same")), str(bar_chart([], title="Same"))
    ident = re.compile(r'<figure class="chart" id="([^"]+)"')
    assert ident.search(first).group(1) != ident.search(second).group(1)  # type: ignore[union-attr]


def test_values_are_written_as_people_write_them() -> None:
    assert plain(3.0) == "3"
    assert plain(1234.5) == "1,234.5"
    assert percent(33.333) == "33.3%"
