"""The tables of the marketplace benchmark: every measured path, and each target's verdict."""

from __future__ import annotations

import argparse
from typing import Any

import _harness as h

TARGET_IMPORT_S = 60.0
TARGET_IMPORT_MIB = 300.0
TARGET_SEARCH_P95 = 20.0
TARGET_SPEEDUP = 20.0
TARGET_DEEP_P95 = 50.0
TARGET_VARIED_SPEEDUP = 100.0
NO_CACHE = ", response cache off"
"""The suffix of the runs measured with the response cache off."""


def report(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    rows, verdicts = [], []
    for result in results:
        engine, runs, imported = result["engine"], result["runs"], result["import"]
        for name, run in runs.items():
            cores = run.get("cpu_cores", {})
            rate = max(run["requests_per_s"], 1e-9)
            rows.append(
                [
                    engine,
                    name,
                    f"{run['requests_per_s']:,.1f}",
                    f"{run['latency_ms']['p50']:.2f}",
                    f"{run['p95']:.2f}",
                    f"{run['latency_ms']['p99']:.2f}",
                    f"{1000 * cores.get('servers', 0.0) / rate:.2f}" if run["requests"] else "-",
                    f"{cores.get('other', 0.0):.2f}",
                    run["non_2xx_3xx"] + run["socket_errors"],
                ]
            )
        alone = result["one_at_a_time_ms"]
        verdicts.append(
            [
                engine,
                "one at a time: original / indexed latency",
                f"{alone['original'] / max(alone['indexed'], 1e-9):,.0f}x "
                f"({alone['original']:,.0f} / {alone['indexed']:,.1f} ms)",
                h.verdict(alone["original"] >= TARGET_SPEEDUP * alone["indexed"]),
            ]
        )
        if imported:
            verdicts += [
                [
                    engine,
                    "import ≤ 60 s",
                    f"{imported['seconds']:.1f} s ({imported['cpu_seconds']:.0f} s of CPU)",
                    h.verdict(imported["seconds"] <= TARGET_IMPORT_S),
                ],
                [
                    engine,
                    "import peak RSS ≤ 300 MB",
                    f"{imported['peak_rss_mib']:.0f} MiB",
                    h.verdict(imported["peak_rss_mib"] <= TARGET_IMPORT_MIB),
                ],
            ]
        varied = runs[f"varied search{NO_CACHE}"]
        original = runs["original, varied searches"]["requests_per_s"]
        for mode in ("", ", distributed", ", distributed, two replicas"):
            measured = runs.get(f"varied search{mode}{NO_CACHE}")
            if measured is not None:
                verdicts.append(
                    [
                        engine,
                        f"varied searches{mode} p95 ≤ 20 ms{NO_CACHE}",
                        f"{measured['p95']:.1f} ms",
                        h.verdict(measured["p95"] <= TARGET_SEARCH_P95),
                    ]
                )
        verdicts += [
            [
                engine,
                f"varied searches ≥ 100x the original's req/s{NO_CACHE}",
                f"{varied['requests_per_s'] / original:,.0f}x"
                if original > 0
                else "the original completed no request in its run",
                h.verdict(varied["requests_per_s"] >= TARGET_VARIED_SPEEDUP * original),
            ],
        ]
        for suffix in ("", NO_CACHE):
            search = runs[f"search{suffix}"]
            completed = runs["original"]["requests_per_s"]
            speedup = search["requests_per_s"] / completed if completed else float("inf")
            verdicts += [
                [
                    engine,
                    f"search p95 ≤ 20 ms{suffix}",
                    f"{search['p95']:.1f} ms",
                    h.verdict(search["p95"] <= TARGET_SEARCH_P95),
                ],
                [
                    engine,
                    f"search >= 20x the original's req/s{suffix}",
                    f"{speedup:,.0f}x" if completed else "the original completed none",
                    h.verdict(speedup >= TARGET_SPEEDUP),
                ],
            ]
            for name in ("deep page", "deep page, inherited", "count"):
                p95 = runs[f"{name}{suffix}"]["p95"]
                verdicts.append(
                    [
                        engine,
                        f"{name} p95 ≤ 50 ms{suffix}",
                        f"{p95:.1f} ms",
                        h.verdict(p95 <= TARGET_DEEP_P95),
                    ]
                )
    headers = ["engine", "path", "req/s", "p50 ms", "p95 ms", "p99 ms", "server CPU ms/req"]
    headers += ["other cores", "errors"]
    return "\n".join(
        [
            f"### {args.listings:,} listings, {args.connections} connections, "
            f"{args.duration:g} s per run",
            "",
            h.markdown_table(headers, rows),
            "",
            h.markdown_table(["engine", "target", "measured", "result"], verdicts),
        ]
    )
