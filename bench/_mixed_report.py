"""The mixed load's figures from the requests Locust recorded: per route, per window (steady,
failover), and the CPU of each service per request it served."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from _results import markdown_table
from bandstand import registry

Sample = Sequence[Any]  # (start epoch s, "METHOD /route", ms, failed 0/1, error)
ENGINES = ("postgresql", "rabbitmq", "redis")
MACHINE, LOCUST = "machine (all processes)", "load generator (Locust)"
PLATFORM, OTHER = "platform, all its processes", "other work on the machine"


def service_of(route: str) -> str:
    path = route.split(" ", 1)[1].split(" (", 1)[0]
    best, found = "", "?"
    for entry in registry.SERVICES:
        for prefix in entry.prefixes:
            if path.startswith(prefix) and len(prefix) > len(best):
                best, found = prefix, entry.name
    return found


def _percentile(values: list[float], fraction: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[int(fraction * 1000) - 1]


def route_stats(samples: Sequence[Sample], start: float, end: float) -> dict[str, dict[str, Any]]:
    """Per route: requests started in [start, end), their rate, latency percentiles, failures."""
    by_route: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        if start <= sample[0] < end:
            by_route[sample[1]].append(sample)
    seconds = end - start
    stats: dict[str, dict[str, Any]] = {}
    for route, rows in sorted(by_route.items(), key=lambda item: -len(item[1])):
        times = sorted(row[2] for row in rows)
        errors: dict[str, int] = defaultdict(int)
        for row in rows:
            if row[3]:
                errors[row[4]] += 1
        stats[route] = {
            "service": service_of(route),
            "requests": len(rows),
            "per_s": len(rows) / seconds,
            "p50_ms": _percentile(times, 0.50),
            "p95_ms": _percentile(times, 0.95),
            "p99_ms": _percentile(times, 0.99),
            "failures": sum(errors.values()),
            "errors": dict(errors),
        }
    return stats


def totals(
    stats: dict[str, dict[str, Any]], samples: Sequence[Sample], start: float, end: float
) -> dict[str, Any]:
    times = sorted(s[2] for s in samples if start <= s[0] < end)
    return {
        "requests": len(times),
        "per_s": len(times) / (end - start),
        "p50_ms": _percentile(times, 0.50) if times else None,
        "p95_ms": _percentile(times, 0.95) if times else None,
        "p99_ms": _percentile(times, 0.99) if times else None,
        "failures": sum(route["failures"] for route in stats.values()),
    }


def _groups(cpu: dict[str, float]) -> dict[str, float]:
    groups: dict[str, float] = defaultdict(float)
    for name, used in cpu.items():
        groups["billing worker" if name == "billing-worker" else name.split("-")[0]] += used
    return groups


def cpu_per_request(
    cpu: dict[str, float],
    idle: dict[str, float],
    idle_seconds: float,
    stats: dict[str, dict[str, Any]],
    seconds: float,
) -> dict[str, dict[str, Any]]:
    """Each process group's CPU over the steady window: cores it used, ms per request it served
    (a service: the requests routed to it; the gateway and the engines: every request; the
    billing worker: the orders), and the same less what it used at rest (`idle`, measured over
    `idle_seconds` before the load)."""
    served: dict[str, int] = defaultdict(int)
    for route in stats.values():
        served[route["service"]] += route["requests"]
    everything = sum(served.values())
    orders = stats.get("POST /api/v1/billing/orders", {}).get("requests", 0)
    groups, at_rest = _groups(cpu), _groups(idle)
    machine = groups.pop(MACHINE)
    locust = groups.pop(LOCUST)
    platform = sum(groups.values())
    groups[PLATFORM] = platform
    groups[LOCUST] = locust
    groups[OTHER] = machine - platform - locust
    at_rest[PLATFORM] = sum(v for k, v in at_rest.items() if k not in (MACHINE, LOCUST))
    result: dict[str, dict[str, Any]] = {}
    for group, used in groups.items():
        if group in served:
            requests, basis = served[group], "its requests"
        elif group == "billing worker":
            requests, basis = orders, "orders"
        else:
            requests, basis = everything, "every request"
        rest = at_rest.get(group, 0.0) / idle_seconds * seconds if group != OTHER else 0.0
        result[group] = {
            "cpu_s": used,
            "cores": used / seconds,
            "idle_cores": rest / seconds,
            "requests": requests,
            "basis": basis,
            "ms_per_request": 1000 * used / requests if requests else None,
            "net_ms_per_request": 1000 * max(used - rest, 0.0) / requests if requests else None,
        }
    return result


def failover(samples: Sequence[Sample], phases: dict[str, Any]) -> dict[str, Any]:
    """Failures of requests started before the kill (in flight on the replica or not) and
    after it, in the failover window."""
    killed = phases["killed_at"]
    start, end = phases["failover_started"], phases["failover_ended"]
    window = [s for s in samples if start <= s[0] < end]
    before = [s for s in window if s[0] < killed]
    in_flight = [s for s in before if s[0] + s[2] / 1000 >= killed]
    after = [s for s in window if s[0] >= killed]
    music_after = [s for s in after if service_of(s[1]) == "music"]
    return {
        "started_before_kill": len(before),
        "in_flight_at_kill": len(in_flight),
        "failed_in_flight": sum(s[3] for s in in_flight),
        "failed_before_kill_not_in_flight": sum(s[3] for s in before)
        - sum(s[3] for s in in_flight),
        "started_after_kill": len(after),
        "music_started_after_kill": len(music_after),
        "failed_after_kill": sum(s[3] for s in after),
        "music_failed_after_kill": sum(s[3] for s in music_after),
        "errors_after_kill": sorted({s[4] for s in after if s[3]}),
        "errors_in_flight": sorted({s[4] for s in in_flight if s[3]}),
        "music_p99_ms_first_5_s_after_kill": _slowest(music_after, killed, 5.0),
        "music_by_second_after_kill": _by_second(music_after, killed),
    }


def _by_second(samples: Sequence[Sample], killed: float) -> list[list[float]]:
    """[second after the kill, requests started in it, their p95 and slowest ms, failures]."""
    seconds: dict[int, list[Sample]] = defaultdict(list)
    for sample in samples:
        seconds[int(sample[0] - killed)].append(sample)
    rows = []
    for second, rows_of in sorted(seconds.items()):
        times = sorted(row[2] for row in rows_of)
        p95 = _percentile(times, 0.95)
        rows.append(
            [second, len(times), round(p95, 1), round(times[-1], 1), sum(r[3] for r in rows_of)]
        )
    return rows


def _slowest(samples: Sequence[Sample], killed: float, seconds: float) -> float | None:
    times = sorted(s[2] for s in samples if s[0] < killed + seconds)
    return _percentile(times, 0.99) if times else None


def report(results: dict[str, Any]) -> str:
    steady, fail = results["steady"], results.get("failover")
    rows = []
    for route, row in steady["routes"].items():
        other = (fail or {}).get("routes", {}).get(route)
        rows.append(
            [
                route,
                row["service"],
                row["per_s"],
                f"{row['p50_ms']:.1f} / {row['p95_ms']:.1f} / {row['p99_ms']:.1f}",
                row["failures"],
                "-"
                if other is None
                else f"{other['per_s']:.2f}, {other['p50_ms']:.1f} / {other['p95_ms']:.1f} / "
                f"{other['p99_ms']:.1f}, {other['failures']}",
            ]
        )
    total, ftotal = steady["total"], (fail or {}).get("total")
    rows.append(
        [
            "**all**",
            "",
            total["per_s"],
            f"{total['p50_ms']:.1f} / {total['p95_ms']:.1f} / {total['p99_ms']:.1f}",
            total["failures"],
            "-"
            if not ftotal
            else f"{ftotal['per_s']:.2f}, {ftotal['p50_ms']:.1f} / {ftotal['p95_ms']:.1f} / "
            f"{ftotal['p99_ms']:.1f}, {ftotal['failures']}",
        ]
    )
    headers = [
        "route",
        "service",
        "req/s",
        "p50 / p95 / p99 ms",
        "failures",
        "failover: req/s, p50 / p95 / p99, failures",
    ]
    cpu_rows = [
        [
            group,
            f"{row['cpu_s']:.1f}",
            f"{row['cores']:.2f}",
            f"{row['idle_cores']:.3f}",
            row["requests"],
            row["basis"],
            "-" if row["ms_per_request"] is None else f"{row['ms_per_request']:.2f}",
            "-" if row["net_ms_per_request"] is None else f"{row['net_ms_per_request']:.2f}",
        ]
        for group, row in steady["cpu"].items()
    ]
    cpu_table = markdown_table(
        [
            "process group",
            "CPU s",
            "cores",
            "at rest, cores",
            "requests",
            "per",
            "ms CPU per request",
            "less at rest",
        ],
        cpu_rows,
    )
    text = markdown_table(headers, rows) + "\n\n" + cpu_table
    if results.get("probes"):
        probe_rows = [
            [
                probe["users"],
                probe["per_s"],
                f"{probe['p50_ms']:.1f} / {probe['p95_ms']:.1f} / {probe['p99_ms']:.1f}",
                probe["failures"],
                f"{probe['platform_cores']:.2f}",
                f"{probe['locust_cores']:.2f}",
                f"{probe['other_cores']:.2f}",
            ]
            for probe in results["probes"]
        ]
        probe_headers = [
            "users",
            "req/s",
            "p50 / p95 / p99 ms",
            "failures",
            "platform cores",
            "Locust cores",
            "other work, cores",
        ]
        text += "\n\n" + markdown_table(probe_headers, probe_rows)
    if fail:
        text += "\n\n" + "\n".join(
            f"- {key}: {value}"
            for key, value in fail["kill"].items()
            if key != "music_by_second_after_kill"
        )
    return text
