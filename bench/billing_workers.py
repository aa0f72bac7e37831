"""Billing workers compete on one queue: orders/s with one worker and with two, in the same run.

PostgreSQL and RabbitMQ (private servers of `tests/support/servers`), one `bandstand serve
billing`, and one or two `bandstand worker billing` on `billing_queue`. Two measurements per
worker count, alternating 1, 2, 1, 2... (`--rounds`) so that a change in the machine's load
falls on both:

- drain: with no worker running, wrk places orders for `--backlog-seconds`; once the relay has
  put them all on the queue the workers start, and the rate they bill them is taken between 10%
  and 90% of the backlog (start-up excluded), with the CPU each process used per order. This is
  the workers' own capacity.
- end to end: as `billing_pipeline.py`, wrk places orders for `--duration` seconds while the
  workers bill them: orders completed per second from the first 202 to the last completion.
  One API process accepts them, so this rate cannot exceed what it accepts.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _harness as h
from _procfs import cpu_seconds
from _support import PostgresServer, RabbitMQServer, TokenFactory
from billing_pipeline import LUA, ORDER, EngineTree, PgCounter, measure, serve_jwks

PENDING = "SELECT count(*) FROM outbox WHERE published_at IS NULL"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load, end to end")
    parser.add_argument("--backlog-seconds", type=float, default=8.0, help="wrk before a drain")
    parser.add_argument("--connections", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=2, help="runs of each worker count")
    h.common_arguments(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.backlog_seconds, args.rounds = 5.0, 3.0, 1
    return args


class Bench:
    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args, self.tmp = args, tmp
        self.postgres, self.rabbitmq = PostgresServer(), RabbitMQServer()
        self.tokens = TokenFactory()
        self.script = tmp / "order.lua"
        self.script.write_text(
            LUA.format(token=self.tokens.token(user_id=2, lifetime=7200), body=json.dumps(ORDER))
        )
        self.env: dict[str, str] = {}
        self.url = ""
        self.api: h.Process | None = None
        self.counter: PgCounter | None = None
        self._spawned = 0

    def engines(self) -> list[EngineTree]:
        return [EngineTree("postgres", self.postgres), EngineTree("rabbitmq", self.rabbitmq)]

    def workers(self, count: int) -> list[h.Process]:
        processes = []
        for _ in range(count):
            self._spawned += 1
            name = f"worker-{self._spawned}"
            processes.append(
                h.bandstand_process(
                    name, ["worker", "billing"], self.tmp / name, extra_env=self.env
                )
            )
        return processes

    def sql(self, query: str) -> int:
        assert self.counter is not None
        return self.counter.scalar(query)

    def completed(self) -> tuple[int, int]:
        assert self.counter is not None
        return self.counter()

    def drain(self, count: int) -> dict[str, Any]:
        """Place a backlog with no worker running, then bill it with `count` workers."""
        h.settle(self.args)
        before = self.completed()[1]
        load = h.run_wrk(
            self.url,
            connections=self.args.connections,
            duration=self.args.backlog_seconds,
            script=self.script,
        )
        deadline = time.monotonic() + 60
        while self.sql(PENDING) > 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        done, total = self.completed()
        backlog = total - done
        workers = self.workers(count)
        measured: list[h.Measured] = [*workers, *self.engines()]
        samples: list[tuple[float, int, dict[str, float], float]] = []
        with contextlib.ExitStack() as stack:
            for worker in workers:
                stack.enter_context(worker)
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                completed, _ = self.completed()
                cpu = {m.name: cpu_seconds(m.tree()) for m in measured}
                samples.append(
                    (time.perf_counter(), completed - done, cpu, h.system_busy_seconds())
                )
                if completed - done >= backlog:
                    break
                time.sleep(0.1)
        return {
            "workers": count,
            "accepted_per_s": load.requests_per_s,
            "backlog": backlog,
            "stored_before": before,
            **_rate_between(samples, backlog, 0.1, 0.9),
        }

    def end_to_end(self, count: int) -> dict[str, Any]:
        assert self.counter is not None
        workers = self.workers(count)
        with contextlib.ExitStack() as stack:
            for worker in workers:
                stack.enter_context(worker)
            time.sleep(2)  # the workers start and consume
            result = measure(
                self.args,
                self.url,
                self.script,
                [*([self.api] if self.api else []), *workers, *self.engines()],
                self.counter,
                self.rabbitmq,
                duration=self.args.duration,
            )
        load = result.pop("load")
        # `measure` counts the whole table; this run's orders are those it stored.
        for key in ("completed", "end_to_end_orders_per_s", "completed_per_s_during_load"):
            result.pop(key, None)
        after = result["all_completed_s_after_load"]
        return {
            "workers": count,
            "end_to_end_orders_per_s": (
                None if after is None else result["stored"] / (load.duration_s + after)
            ),
            "accepted_per_s": load.requests_per_s,
            "latency_ms": load.latency_ms,
            "cpu_cores": load.cpu_cores,
            **result,
        }

    def run(self) -> dict[str, Any]:
        jwks_server, jwks_url = serve_jwks(self.tokens)
        results: dict[str, Any] = {"drain": [], "end_to_end": []}
        try:
            self.postgres.start()
            self.rabbitmq.start()
            self.postgres.create_database("billing_workers")
            self.env = {
                "BANDSTAND_DATABASES__BILLING": self.postgres.url("billing_workers"),
                "BANDSTAND_BROKER_URL": self.rabbitmq.url,
                "BANDSTAND_JWKS_URL": jwks_url,
            }
            port = h.free_port()
            self.url = f"http://{h.HOST}:{port}/api/billing"
            self.api = h.bandstand_process(
                "billing",
                ["serve", "billing", "--port", str(port)],
                self.tmp / "api",
                extra_env=self.env,
            )
            self.counter = PgCounter(self.postgres.dsn("billing_workers"))
            with h.started(self.api, port):
                h.run_wrk(self.url, connections=4, duration=2, script=self.script)  # warm-up
                for _ in range(self.args.rounds):
                    for count in (1, 2):
                        results["drain"].append(self.drain(count))
                        print(json.dumps(results["drain"][-1], default=str), flush=True)
                for _ in range(self.args.rounds):
                    for count in (1, 2):
                        results["end_to_end"].append(self.end_to_end(count))
                        print(json.dumps(results["end_to_end"][-1], default=str), flush=True)
        finally:
            jwks_server.shutdown()
            self.postgres.cleanup()
            self.rabbitmq.cleanup()
        return results


def _rate_between(
    samples: list[tuple[float, int, dict[str, float], float]], backlog: int, low: float, high: float
) -> dict[str, Any]:
    """Orders/s between the samples where `low` and `high` of the backlog were billed, and the
    CPU per order (ms) of each measured process over that span, and of the whole machine."""
    first = next((s for s in samples if s[1] >= low * backlog), None)
    last = next((s for s in samples if s[1] >= high * backlog), None)
    if first is None or last is None or last[0] <= first[0]:
        return {"orders_per_s": None}
    orders = last[1] - first[1]
    seconds = last[0] - first[0]
    cpu_ms = {name: 1000 * (last[2][name] - first[2][name]) / orders for name in first[2]}
    return {
        "orders_per_s": orders / seconds,
        "measured_orders": orders,
        "cpu_ms_per_order": cpu_ms,
        "machine_busy_cores": (last[3] - first[3]) / seconds,
    }


def summary(results: dict[str, Any]) -> dict[str, Any]:
    """Median of each worker count, and two workers ÷ one."""
    out: dict[str, Any] = {}
    for kind, key in (("drain", "orders_per_s"), ("end_to_end", "end_to_end_orders_per_s")):
        medians = {}
        for count in (1, 2):
            rates = [r[key] for r in results[kind] if r["workers"] == count and r.get(key)]
            medians[count] = statistics.median(rates) if rates else None
        ratio = medians[2] / medians[1] if medians[1] and medians[2] else None
        out[kind] = {"one_worker": medians[1], "two_workers": medians[2], "ratio": ratio}
    for count in (1, 2):
        runs = [r for r in results["drain"] if r["workers"] == count and r.get("orders_per_s")]
        if runs:
            cpu = [
                sum(ms for name, ms in r["cpu_ms_per_order"].items() if name.startswith("worker"))
                for r in runs
            ]
            out["drain"][f"worker_cpu_ms_per_order_{count}"] = statistics.median(cpu)
            busy = [r["machine_busy_cores"] for r in runs]
            out["drain"][f"machine_busy_cores_{count}"] = statistics.median(busy)
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    with tempfile.TemporaryDirectory(prefix="bench-billing-workers-") as scratch:
        results = Bench(args, Path(scratch)).run()
    results["summary"] = summary(results)
    results["loadavg_before"] = load_before
    results["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3]
    results["connections"] = args.connections
    path = h.write_results("billing_workers", results)
    print(json.dumps(results["summary"], indent=2))
    print(f"(load average before {load_before}, after {results['loadavg_after']}; {path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
