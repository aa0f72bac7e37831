"""A mixed load that looks like users, distributed, on PostgreSQL, RabbitMQ and Redis; and the
same load while one music replica is killed.

Every service runs as its own `bandstand serve` process (music and marketplace as two replicas
each: music takes the most requests of the mix, the marketplace's search the most CPU per
request), the billing worker, one gateway; private PostgreSQL, RabbitMQ and Redis servers. The
data: `--songs` songs with ten likes each on average (skewed), `--listings` instrument listings
imported by `bandstand import`, the demo catalogue (`bandstand seed --demo`), an admin and
`--accounts` users registered and signed in through the gateway.

Locust (`_mixed_locust.py`, in its own process) runs the journeys of `_mixed_journeys.py`:
listeners (songs: browse, search, open, like, their likes), visitors not signed in, concert-goers,
instrument shoppers, learners (enrol, complete lessons, withdraw), movie buyers (orders) and two
admins; each user waits 2-8 s between actions. After the users are spawned and a warm-up, a steady
window is measured (per route: req/s, p50/p95/p99, failures; each process's CPU), then a failover
window: `--kill-after` seconds in, one music replica gets SIGKILL. A request that started after
the kill must not fail; those in flight on the replica may, and are counted.
Traffic goes to 127.0.0.1 only; the run is bounded by its windows.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

import _harness as h
import _mixed_report as mixed
import _search_queries as search_queries
from _mixed_mix import THINK, learner_accounts
from _mixed_stack import Stack, started_stack
from _procfs import wait_for_quiet

REPLICAS = {"music": 2, "marketplace": 2}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=300, help="concurrent Locust users")
    parser.add_argument("--spawn-rate", type=float, default=20.0, help="users started per second")
    parser.add_argument("--idle", type=float, default=15.0, help="seconds at rest, measured")
    parser.add_argument(
        "--warm", type=float, default=15.0, help="seconds after spawning, not counted"
    )
    parser.add_argument("--steady", type=float, default=75.0, help="seconds of the steady window")
    parser.add_argument(
        "--failover", type=float, default=60.0, help="seconds of the failover window; 0: none"
    )
    parser.add_argument(
        "--kill-after", type=float, default=20.0, help="seconds into the failover window"
    )
    parser.add_argument(
        "--accounts", type=int, default=120, help="signed-in accounts (argon2id each)"
    )
    parser.add_argument("--songs", type=int, default=10_000)
    parser.add_argument("--listings", type=int, default=20_000)
    parser.add_argument(
        "--quiet-wait", type=float, default=60.0, help="seconds to wait for a quiet machine"
    )
    parser.add_argument(
        "--probe",
        default="",
        help="user counts to try first, comma-separated (e.g. 100,200,400): a short steady "
        "window each, to find the load the machine holds",
    )
    parser.add_argument("--probe-seconds", type=float, default=30.0)
    parser.add_argument("--probe-only", action="store_true", help="no main run after the probes")
    parser.add_argument("--report", type=Path, help="print the tables of a saved results file")
    parser.add_argument("--quick", action="store_true", help="a short run: 60 users, 20 s windows")
    args = parser.parse_args(argv)
    if args.quick:
        args.users, args.warm, args.steady, args.failover, args.kill_after = (
            60,
            5.0,
            20.0,
            20.0,
            8.0,
        )
        args.accounts, args.songs, args.listings = 30, 2_000, 5_000
    if args.failover and not 0 < args.kill_after < args.failover:
        parser.error("--kill-after must fall inside the failover window")
    return args


def locust_config(args: argparse.Namespace, stack: Stack) -> dict[str, Any]:
    queries = [
        urllib.parse.urlencode(query) for query in search_queries.queries(count=400, seed=17)
    ]
    measured = {name: process.pid for name, process in stack.processes.items()}
    measured.update({name: engine.pid for name, engine in stack.engines.items() if engine.pid})
    return {
        "host": f"http://{h.HOST}:{stack.gateway_port}",
        "users": args.users,
        "spawn_rate": args.spawn_rate,
        "idle_s": args.idle,
        "warm_s": args.warm,
        "steady_s": args.steady,
        "failover_s": args.failover,
        "kill_after_s": args.kill_after,
        "kill_pid": stack.processes["music-1"].pid,
        "measured": measured,
        "catalogue": stack.data["catalogue"],
        "accounts": stack.data["accounts"],
        "learner_accounts": stack.data["learner_accounts"],
        "admin": stack.data["admin"],
        "instrument_queries": queries,
    }


def run_locust(config: dict[str, Any], tmp: Path) -> dict[str, Any]:
    config_path, out_path = tmp / "locust-config.json", tmp / "locust-out.json"
    config_path.write_text(json.dumps(config))
    timeout = (
        config["users"] / config["spawn_rate"]
        + config["warm_s"]
        + config["steady_s"]
        + config["failover_s"]
        + 180
    )
    completed = subprocess.run(
        [sys.executable, str(h.BENCH / "_mixed_locust.py"), str(config_path), str(out_path)],
        env=h.process_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"Locust failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
        )
    result: dict[str, Any] = json.loads(out_path.read_text())
    return result


def analyse(locust: dict[str, Any]) -> dict[str, Any]:
    phases, samples = locust["phases"], locust["samples"]
    start, end = phases["steady_started"], phases["steady_ended"]
    routes = mixed.route_stats(samples, start, end)
    results: dict[str, Any] = {
        "phases": phases,
        "steady": {
            "seconds": end - start,
            "routes": routes,
            "total": mixed.totals(routes, samples, start, end),
            "cpu": mixed.cpu_per_request(
                locust["steady_cpu_s"],
                locust["idle_cpu_s"],
                phases["idle_ended"] - phases["idle_started"],
                routes,
                end - start,
            ),
        },
    }
    if "killed_at" in phases:
        fstart, fend = phases["failover_started"], phases["failover_ended"]
        froutes = mixed.route_stats(samples, fstart, fend)
        results["failover"] = {
            "seconds": fend - fstart,
            "routes": froutes,
            "total": mixed.totals(froutes, samples, fstart, fend),
            "kill": mixed.failover(samples, phases),
        }
    return results


def probe_counts(args: argparse.Namespace) -> list[int]:
    return [int(count) for count in args.probe.split(",") if count]


def probe(args: argparse.Namespace, stack: Stack, tmp: Path) -> list[dict[str, Any]]:
    rows = []
    for users in probe_counts(args):
        trial = argparse.Namespace(**vars(args))
        trial.users, trial.idle, trial.warm, trial.steady = users, 3.0, 5.0, args.probe_seconds
        trial.failover = 0.0
        measured = analyse(run_locust(locust_config(trial, stack), tmp))["steady"]
        cpu = measured["cpu"]
        rows.append(
            {
                "users": users,
                **measured["total"],
                "platform_cores": cpu[mixed.PLATFORM]["cores"],
                "locust_cores": cpu[mixed.LOCUST]["cores"],
                "other_cores": cpu[mixed.OTHER]["cores"],
                "errors": {
                    route: row["errors"]
                    for route, row in measured["routes"].items()
                    if row["errors"]
                },
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.report:
        print(mixed.report(json.loads(args.report.read_text())))
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-mixed-") as scratch:
        tmp = Path(scratch)
        setup_started = time.monotonic()
        with started_stack(
            tmp,
            replicas=REPLICAS,
            accounts=args.accounts,
            learner_accounts=learner_accounts(max([args.users, *probe_counts(args)])),
            songs=args.songs,
            listings=args.listings,
        ) as stack:
            setup_s = time.monotonic() - setup_started
            print(f"platform up and data ready in {setup_s:.0f} s", flush=True)
            probes = probe(args, stack, tmp) if args.probe else []
            if args.probe_only:
                return 0
            other_cores = wait_for_quiet(max_wait=args.quiet_wait) if args.quiet_wait else None
            locust = run_locust(locust_config(args, stack), tmp)
            results = analyse(locust)
            results["probes"] = probes
            results["setup"] = {
                "seconds": setup_s,
                "ready_s": stack.data["ready_s"],
                "bulk": stack.data["bulk"],
                "listings_imported": stack.data["listings_imported"],
                "catalogue_counts": {
                    key: value if isinstance(value, int) else len(value)
                    for key, value in stack.data["catalogue"].items()
                },
                "listings_visible": stack.data["listings_visible"],
                "accounts": len(stack.data["accounts"]),
                "other_cores_before": other_cores,
            }
            for name, process in stack.processes.items():
                if "Traceback" in process.log_tail(400) and name != "music-1":
                    results.setdefault("tracebacks", {})[name] = process.log_tail(40)
            # What the gateway and the surviving replica said (warnings and errors only).
            results["log_tails"] = {
                name: stack.processes[name].log_tail(40) for name in ("gateway", "music-2")
            }
    results["load"] = {
        "users": args.users,
        "spawn_rate": args.spawn_rate,
        "think_time_s": list(THINK),
        "warm_s": args.warm,
        "steady_s": args.steady,
        "failover_s": args.failover,
        "kill_after_s": args.kill_after,
        "replicas": REPLICAS,
    }
    path = h.write_results("mixed_load", results)
    print(mixed.report(json.loads(path.read_text())))
    print(f"\n(results in {path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
