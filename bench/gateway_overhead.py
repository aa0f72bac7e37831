"""What the gateway costs: identity direct, through the gateway, through nginx, and embedded.

Targets: the gateway keeps >= 80% of direct throughput (64 connections) and adds <= 0.3 ms at
p50 at one connection, where nothing queues and the hop's own cost shows (nginx in front of the
same service is the reference reported beside both); embedded mode, with no extra hop, keeps
>= 90% of a bare service.

Processes, all on 127.0.0.1, all alive for the whole run (idle while another is measured):
  A  bandstand serve identity          (SQLite in a temporary data dir)
  B  bandstand serve gateway           BANDSTAND_SERVICE_URLS__IDENTITY=http://127.0.0.1:A
  C  nginx, one worker, keep-alive upstream to A
  D  bandstand up                      (embedded: the gateway with identity in-process)
Measured path: GET /.well-known/jwks.json (routed to identity, no database), and /health/ on
A and D. Runs are sequential; each is preceded by a short warm-up and repeated `--rounds`
times, round-robin, and the median is reported.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import _harness as h

JWKS = "/.well-known/jwks.json"
HEALTH = "/health/"
TARGET_THROUGHPUT = 0.80
TARGET_P50_ADDED_MS = 0.3  # at `--latency-connections` (one connection)
TARGET_EMBEDDED = 0.90

NGINX_CONF = """\
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    upstream identity {{
        server 127.0.0.1:{upstream};
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://identity;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
"""


def nginx_process(workdir: Path, port: int, upstream: int) -> h.Process:
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "nginx.conf"
    conf.write_text(NGINX_CONF.format(tmp=workdir, port=port, upstream=upstream))
    argv = [
        "nginx",
        "-p",
        str(workdir),
        "-e",
        str(workdir / "nginx-error.log"),
        "-c",
        str(conf),
        "-g",
        "daemon off;",
    ]
    return h.Process("nginx", argv, env=h.process_env(), workdir=workdir)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per run")
    parser.add_argument("--rounds", type=int, default=3, help="repetitions (median reported)")
    parser.add_argument(
        "--latency-connections",
        type=int,
        default=1,
        help="also measure the JWKS targets with this few connections (0: skip)",
    )
    h.common_arguments(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.warmup, args.rounds = 2.0, 1.0, 1
    return args


def measure(
    label: str,
    url: str,
    servers: list[h.Process],
    connections: int,
    args: argparse.Namespace,
) -> h.WrkResult:
    result = h.measure_wrk(url, args, connections=connections, servers=servers)
    cpu = result.cpu_cores
    problems = "" if result.clean else f"  non-2xx {result.non_2xx_3xx} sock {result.socket_errors}"
    print(
        f"  {label:<16} c={connections:<3} {result.requests_per_s:>9,.0f} req/s"
        f"  p50 {result.p50:7.2f} ms  p99 {result.p99:7.2f} ms"
        f"  {result.cpu_us_per_request():4.0f} us cpu/req  cores servers"
        f" {cpu['servers']:.2f} wrk {cpu['wrk']:.2f} other {cpu['other']:.2f}{problems}",
        file=sys.stderr,
        flush=True,
    )
    return result


def run(args: argparse.Namespace) -> dict[str, Any]:
    ports = {name: h.free_port() for name in ("identity", "gateway", "nginx", "embedded")}
    with tempfile.TemporaryDirectory(prefix="bench-gateway-") as scratch:
        tmp = Path(scratch)
        identity = h.bandstand_process(
            "identity", ["serve", "identity", "--port", str(ports["identity"])], tmp / "identity"
        )
        gateway = h.bandstand_process(
            "gateway",
            ["serve", "gateway", "--port", str(ports["gateway"])],
            tmp / "gateway",
            extra_env={"BANDSTAND_SERVICE_URLS__IDENTITY": f"http://127.0.0.1:{ports['identity']}"},
        )
        nginx = nginx_process(tmp / "nginx", ports["nginx"], ports["identity"])
        embedded = h.bandstand_process(
            "embedded", ["up", "--port", str(ports["embedded"])], tmp / "embedded"
        )
        with (
            h.started(identity, ports["identity"]),
            # Only identity runs behind this gateway, so its /ready (every service up) stays 503:
            # the measured path itself says when the route to identity works.
            h.started(gateway, ports["gateway"], JWKS),
            h.started(nginx, ports["nginx"]),
            h.started(embedded, ports["embedded"], "/ready"),
        ):
            # name: (port, path, processes that serve it)
            targets: dict[str, tuple[int, str, list[h.Process]]] = {
                "direct": (ports["identity"], JWKS, [identity]),
                "gateway": (ports["gateway"], JWKS, [gateway, identity]),
                "nginx": (ports["nginx"], JWKS, [nginx, identity]),
                "embedded": (ports["embedded"], JWKS, [embedded]),
                "direct health": (ports["identity"], HEALTH, [identity]),
                "embedded health": (ports["embedded"], HEALTH, [embedded]),
            }
            reference = h.http_request(ports["identity"], "GET", JWKS)
            for name, (port, path, _) in targets.items():
                status, body = h.http_request(port, "GET", path)
                same_key = name == "embedded" or body == reference[1]  # D has its own key
                if status != 200 or (path == JWKS and not same_key):
                    raise RuntimeError(f"{name}: GET {path} answered {status} {body[:200]!r}")

            runs: dict[str, list[h.WrkResult]] = {name: [] for name in targets}
            low: dict[str, list[h.WrkResult]] = {}
            for number in range(1, args.rounds + 1):
                print(f"round {number}/{args.rounds}", file=sys.stderr, flush=True)
                for name, (port, path, servers) in targets.items():
                    url = f"http://127.0.0.1:{port}{path}"
                    runs[name].append(measure(name, url, servers, args.connections, args))
                if args.latency_connections:
                    for name in ("direct", "gateway", "nginx", "embedded"):
                        port, path, servers = targets[name]
                        url = f"http://127.0.0.1:{port}{path}"
                        result = measure(name, url, servers, args.latency_connections, args)
                        low.setdefault(name, []).append(result)
            idle = {
                name: h.memory_of_tree(process.pid)
                for name, process in (
                    ("identity", identity),
                    ("gateway", gateway),
                    ("nginx", nginx),
                    ("embedded", embedded),
                )
            }
    return {"runs": runs, "low_concurrency_runs": low, "memory_after": idle}


def summarize(data: dict[str, Any]) -> dict[str, Any]:
    medians = {name: h.median_result(results) for name, results in data["runs"].items()}
    low = {name: h.median_result(results) for name, results in data["low_concurrency_runs"].items()}

    def ratio(name: str, base: str = "direct", table: dict[str, Any] = medians) -> float:
        return float(table[name]["requests_per_s"] / table[base]["requests_per_s"])

    def added(name: str, base: str = "direct", table: dict[str, Any] = medians) -> float:
        return float(table[name]["latency_ms"]["p50"] - table[base]["latency_ms"]["p50"])

    comparisons: dict[str, Any] = {
        "gateway_throughput_ratio": ratio("gateway"),
        "gateway_p50_added_ms": added("gateway"),
        "nginx_throughput_ratio": ratio("nginx"),
        "nginx_p50_added_ms": added("nginx"),
        "embedded_throughput_ratio": ratio("embedded"),
        "embedded_p50_added_ms": added("embedded"),
        "embedded_health_ratio": ratio("embedded health", "direct health"),
    }
    if low:
        for name in ("gateway", "nginx", "embedded"):
            comparisons[f"{name}_p50_added_ms_low_concurrency"] = added(name, table=low)
    low_added = comparisons.get("gateway_p50_added_ms_low_concurrency")
    targets = {
        "gateway_throughput_ge_80pct": comparisons["gateway_throughput_ratio"] >= TARGET_THROUGHPUT,
        "gateway_p50_added_le_0_3ms_low_concurrency": (
            low_added is not None and low_added <= TARGET_P50_ADDED_MS
        ),
        "embedded_throughput_ge_90pct": comparisons["embedded_throughput_ratio"] >= TARGET_EMBEDDED,
    }
    return {
        "medians": medians,
        "low_concurrency": low,
        "comparisons": comparisons,
        "targets": targets,
    }


def cpu_split(median: dict[str, Any]) -> str:
    """`gateway 480 + identity 330`: CPU time per request of each process that served it."""
    parts = [
        f"{key.removeprefix('server:')} {value:.0f}"
        for key, value in median["cpu_us_per_request"].items()
        if key.startswith("server:")
    ]
    return " + ".join(parts)


def report(summary: dict[str, Any], args: argparse.Namespace) -> str:
    medians, low, comp = summary["medians"], summary["low_concurrency"], summary["comparisons"]
    base = medians["direct"]
    rows = []
    paths = {"direct health": HEALTH, "embedded health": HEALTH}
    for name, m in medians.items():
        reference = medians["direct health"] if name.endswith("health") else base
        rows.append(
            [
                name,
                paths.get(name, JWKS),
                m["requests_per_s"],
                m["latency_ms"]["p50"],
                m["latency_ms"]["p99"],
                f"{m['requests_per_s'] / reference['requests_per_s']:.0%}",
                f"{m['latency_ms']['p50'] - reference['latency_ms']['p50']:+.2f}",
                cpu_split(m),
                f"{m['cpu_cores']['servers']:.2f} / {m['cpu_cores']['wrk']:.2f} / "
                f"{m['cpu_cores']['other']:.2f}",
                m["non_2xx_3xx"] + m["socket_errors"],
            ]
        )
    out = [
        f"### Gateway overhead ({args.connections} connections, 1 wrk thread, "
        f"{args.duration:g} s, median of {args.rounds})",
        "",
        h.markdown_table(
            [
                "target",
                "path",
                "req/s",
                "p50 ms",
                "p99 ms",
                "vs direct",
                "p50 added ms",
                "server CPU us/request",
                "CPU cores servers / wrk / other",
                "errors",
            ],
            rows,
        ),
    ]
    if low:
        low_rows = [
            [
                name,
                m["requests_per_s"],
                m["latency_ms"]["p50"],
                m["latency_ms"]["p99"],
                f"{m['latency_ms']['p50'] - low['direct']['latency_ms']['p50']:+.3f}",
            ]
            for name, m in low.items()
        ]
        out += [
            "",
            f"{args.latency_connections} connection (no queueing: the cost of the hop itself), "
            f"{JWKS}:",
            "",
            h.markdown_table(["target", "req/s", "p50 ms", "p99 ms", "p50 added ms"], low_rows),
        ]
    targets = summary["targets"]
    out += [
        "",
        h.markdown_table(
            ["target", "measured", "nginx (reference)", "result"],
            [
                [
                    f"gateway keeps >= 80% of direct req/s ({args.connections} connections)",
                    f"{comp['gateway_throughput_ratio']:.0%}",
                    f"{comp['nginx_throughput_ratio']:.0%}",
                    h.verdict(targets["gateway_throughput_ge_80pct"]),
                ],
                [
                    f"gateway adds <= 0.3 ms at p50 ({args.latency_connections} connection)",
                    _added_text(comp.get("gateway_p50_added_ms_low_concurrency")),
                    _added_text(comp.get("nginx_p50_added_ms_low_concurrency")),
                    h.verdict(targets["gateway_p50_added_le_0_3ms_low_concurrency"]),
                ],
                [
                    f"(no target) gateway's p50 added at {args.connections} connections",
                    f"{comp['gateway_p50_added_ms']:+.2f} ms",
                    f"{comp['nginx_p50_added_ms']:+.2f} ms",
                    "",
                ],
                [
                    "embedded keeps >= 90% of direct req/s",
                    f"{comp['embedded_throughput_ratio']:.0%}",
                    "",
                    h.verdict(targets["embedded_throughput_ge_90pct"]),
                ],
            ],
        ),
    ]
    return "\n".join(out)


def _added_text(value: float | None) -> str:
    return "not measured" if value is None else f"{value:+.3f} ms"


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    data = run(args)
    summary = summarize(data)
    text = report(summary, args)
    print(text)
    path = h.write_results(
        "gateway_overhead",
        {
            "parameters": vars(args),
            "summary": summary,
            "memory_after_mib": data["memory_after"],
            "runs": data["runs"],
            "low_concurrency_runs": data["low_concurrency_runs"],
            "markdown": text,
        },
    )
    print(f"\nresults: {path.relative_to(h.REPO)}", file=sys.stderr)


if __name__ == "__main__":
    main()
