"""The table of BENCHMARKS.md §8 from a saved run of `billing_pipeline.py`."""

from __future__ import annotations

from typing import Any

import _harness as h

TARGET_RATE = 1000.0
TARGET_P99_MS = 50.0
TARGET_DRAIN_S = 5.0


def _load(run: dict[str, Any]) -> tuple[float, float, float]:
    load = run["load"]
    return load["requests_per_s"], load["latency_ms"]["p50"], load["latency_ms"]["p99"]


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def report(results: dict[str, Any]) -> str:
    """The table of BENCHMARKS.md, from the saved (JSON) results."""
    ours, original, local = results["ours"], results["original"], results["embedded"]
    rate, p50, p99 = _load(ours)
    original_rate, original_p50, original_p99 = _load(original)
    local_rate, local_p50, local_p99 = _load(local)
    e2e = ours.get("end_to_end_orders_per_s") or 0.0
    drain = ours["queue_empty_s_after_load"]
    target = f"≥ {TARGET_RATE:,.0f}"
    rows = [
        [
            "RabbitMQ + PostgreSQL: accepted orders/s",
            f"{rate:,.0f}",
            target,
            h.verdict(rate >= TARGET_RATE),
        ],
        [
            "end-to-end orders/s (first 202 → last completed)",
            f"{e2e:,.0f}",
            target,
            h.verdict(e2e >= TARGET_RATE),
        ],
        [
            "completed/s while the load ran",
            f"{ours.get('completed_per_s_during_load', 0):,.0f}",
            "",
            "",
        ],
        [
            "accept latency p50 / p99 (ms)",
            f"{p50:.1f} / {p99:.1f}",
            f"p99 ≤ {TARGET_P99_MS:g}",
            h.verdict(p99 <= TARGET_P99_MS),
        ],
        [
            "queue empty after the load stopped (s)",
            _seconds(drain),
            f"≤ {TARGET_DRAIN_S:g}",
            h.verdict(drain is not None and drain <= TARGET_DRAIN_S),
        ],
        [
            "every order completed after the load stopped (s)",
            _seconds(ours["all_completed_s_after_load"]),
            "",
            "",
        ],
        [
            "orders stored during the load; all completed",
            f"{ours['stored']:,}; {ours['all_stored_completed']}",
            "all",
            h.verdict(ours["all_stored_completed"]),
        ],
        [
            "original (a broker connection per request): accepted orders/s",
            f"{original_rate:,.0f}",
            "",
            "",
        ],
        [
            "original accept latency p50 / p99 (ms)",
            f"{original_p50:.1f} / {original_p99:.1f}",
            "",
            "",
        ],
        [
            "ratio of accepted orders/s, ours / original",
            f"{rate / max(original_rate, 1e-9):.2f}",
            "",
            "",
        ],
        ["embedded (`bandstand up`): accepted orders/s", f"{local_rate:,.0f}", "", ""],
        [
            "embedded: end-to-end orders/s",
            f"{local.get('end_to_end_orders_per_s') or 0:,.0f}",
            "",
            "",
        ],
        ["embedded accept latency p50 / p99 (ms)", f"{local_p50:.1f} / {local_p99:.1f}", "", ""],
        [
            "embedded: every order completed after the load stopped (s)",
            _seconds(local["all_completed_s_after_load"]),
            "",
            "",
        ],
    ]
    return h.markdown_table(["measure", "value", "target", ""], rows)
