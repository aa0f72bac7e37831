"""Billing end to end: orders accepted (202) and completed in the database, per second.

Distributed: PostgreSQL and RabbitMQ (private servers of `tests/support/servers`),
one `bandstand serve billing` and one `bandstand worker billing`. wrk POSTs `/api/billing` with a
user's token for `--duration` seconds; meanwhile the billing database is polled for completed
orders. Reported: accepted orders/s and their latency, end-to-end orders/s (first 202 to the last
order completed), and how long after the load stopped the queue (and the outbox) were empty and
every accepted order was completed.

Baseline, same run, same RabbitMQ: the streaming platform's way of publishing, one new broker
connection per request (`_original_billing_gateway.py`), under the same wrk load.

Embedded: `bandstand up` (SQLite, the embedded broker, the worker as a child process), the same
load through the gateway for a shorter time.
"""

from __future__ import annotations

import argparse
import asyncio
import http.server
import json
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncpg

import _harness as h
from _billing_report import report
from _support import PostgresServer, RabbitMQServer, TokenFactory

ORDER = {"user_id": "usr_2", "number_of_items": 3, "total_amount": 99.97}
LUA = """\
wrk.method = "POST"
wrk.path = "/api/billing"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
wrk.body = '{body}'
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--embedded-duration", type=float, default=20.0)
    parser.add_argument(
        "--connections",
        type=int,
        default=24,
        help="wrk's clients, each waiting for its answer before the next order: at a given rate "
        "the accept latency grows with them (24 at 1,000 orders/s: 24 ms on average), and "
        "fewer clients leave the batches small",
    )
    parser.add_argument("--report", type=Path, help="print the table of a saved results file")
    parser.add_argument(
        "--only-ours",
        action="store_true",
        help="measure RabbitMQ + PostgreSQL only: no original, no embedded run (no report table)",
    )
    h.common_arguments(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.embedded_duration = 5.0, 5.0
    return args


def serve_jwks(tokens: TokenFactory) -> tuple[http.server.ThreadingHTTPServer, str]:
    """The test key's JWKS over HTTP, as identity would publish it."""
    document = json.dumps(asyncio.run(tokens.jwks())).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(document)))
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *_args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer((h.HOST, h.free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://{h.HOST}:{server.server_address[1]}/.well-known/jwks.json"


class Poller:
    """Samples (time, completed, total) from the billing database every 0.25 s in a thread
    (each sample counts the whole table: more often would load the database under test)."""

    def __init__(self, count: Any) -> None:
        self._count = count
        self.samples: list[tuple[float, int, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Poller:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            completed, total = self._count()
            self.samples.append((time.perf_counter(), completed, total))
            time.sleep(0.25)

    def wait_all_completed(self, timeout: float) -> float | None:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.samples and self.samples[-1][1] == self.samples[-1][2] > 0:
                return self.samples[-1][0]
            time.sleep(0.05)
        return None


class EngineTree:
    """A server the fixtures started, measured like the processes under test (its CPU)."""

    def __init__(self, name: str, server: PostgresServer | RabbitMQServer) -> None:
        self.name = name
        self._server = server

    def tree(self) -> list[int]:
        pid = self._server.pid
        return [] if pid is None else h.descendants(pid)


class PgCounter:
    """Counts (completed, all) orders over one connection kept open: a connection per sample
    would make PostgreSQL start a process each time, on the machine being measured."""

    QUERY = "SELECT count(*) FILTER (WHERE status = 'completed'), count(*) FROM orders"

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connection: asyncpg.Connection | None = None

    def __call__(self) -> tuple[int, int]:
        row = self._fetchrow(self.QUERY)
        return int(row[0]), int(row[1])

    def scalar(self, query: str) -> int:
        return int(self._fetchrow(query)[0])

    def _fetchrow(self, query: str) -> Any:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(self._fetch(query))

    async def _fetch(self, query: str) -> Any:
        if self._connection is None or self._connection.is_closed():
            self._connection = await asyncpg.connect(self._dsn)
        return await self._connection.fetchrow(query)


def sqlite_counter(path: Path) -> Any:
    def count() -> tuple[int, int]:
        if not path.exists():
            return 0, 0
        with sqlite3.connect(path, timeout=10) as connection:
            try:
                row = connection.execute(
                    "SELECT sum(status = 'completed'), count(*) FROM orders"
                ).fetchone()
            except sqlite3.OperationalError:
                return 0, 0
        return int(row[0] or 0), int(row[1])

    return count


def end_to_end(
    poller: Poller, load_started: float, load_ended: float, accepted: int
) -> dict[str, Any]:
    done_at = poller.wait_all_completed(timeout=120)
    samples = poller.samples
    first_done = next((t for t, completed, _ in samples if completed > 0), None)
    completed = samples[-1][1] if samples else 0
    result: dict[str, Any] = {
        "accepted": accepted,
        "completed": completed,
        "all_completed_s_after_load": None if done_at is None else done_at - load_ended,
    }
    if done_at is not None:
        result["end_to_end_orders_per_s"] = completed / (done_at - load_started)
    # Sustained completion rate while the load ran (orders completed between 10% and 90%).
    during = [(t, c) for t, c, _ in samples if load_started <= t <= load_ended]
    if len(during) > 10:
        a, b = during[len(during) // 10], during[-len(during) // 10]
        result["completed_per_s_during_load"] = (b[1] - a[1]) / (b[0] - a[0])
    result["first_completed_s_after_start"] = (
        None if first_done is None else first_done - load_started
    )
    return result


def distributed(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    tokens = TokenFactory()
    jwks_server, jwks_url = serve_jwks(tokens)
    script = tmp / "order.lua"
    script.write_text(
        LUA.format(token=tokens.token(user_id=2, lifetime=3600), body=json.dumps(ORDER))
    )
    postgres, rabbitmq = PostgresServer(), RabbitMQServer()
    results: dict[str, Any] = {}
    try:
        postgres.start()
        rabbitmq.start()
        postgres.create_database("billing_bench")
        env = {
            "BANDSTAND_DATABASES__BILLING": postgres.url("billing_bench"),
            "BANDSTAND_BROKER_URL": rabbitmq.url,
            "BANDSTAND_JWKS_URL": jwks_url,
        }
        port = h.free_port()
        api = h.bandstand_process(
            "billing", ["serve", "billing", "--port", str(port)], tmp / "api", extra_env=env
        )
        worker = h.bandstand_process("worker", ["worker", "billing"], tmp / "worker", extra_env=env)
        counter = PgCounter(postgres.dsn("billing_bench"))
        url = f"http://{h.HOST}:{port}/api/billing"
        with h.started(api, port), worker:
            h.run_wrk(url, connections=4, duration=2, script=script)  # warm-up
            engines = [EngineTree("postgres", postgres), EngineTree("rabbitmq", rabbitmq)]
            measured: list[h.Measured] = [api, worker, *engines]
            results["ours"] = measure(args, url, script, measured, counter, rabbitmq)
        if args.only_ours:
            return results
        rabbitmq.reset()
        baseline_port = h.free_port()
        baseline = h.Process(
            "original",
            [
                sys.executable,
                str(h.BENCH / "_original_billing_gateway.py"),
                str(baseline_port),
                rabbitmq.url,
            ],
            env=h.process_env(),
            workdir=tmp / "original",
        )
        baseline_url = f"http://{h.HOST}:{baseline_port}/api/billing"
        with h.started(baseline, baseline_port, ready_path="/health"):
            h.run_wrk(baseline_url, connections=4, duration=2, script=script)
            h.settle(args)
            results["original"] = {
                "load": h.run_wrk(
                    baseline_url,
                    connections=args.connections,
                    duration=args.duration,
                    script=script,
                    servers=[baseline, EngineTree("rabbitmq", rabbitmq)],
                )
            }
    finally:
        jwks_server.shutdown()
        postgres.cleanup()
        rabbitmq.cleanup()
    return results


def measure(
    args: argparse.Namespace,
    url: str,
    script: Path,
    servers: Sequence[h.Measured],
    counter: Any,
    rabbitmq: RabbitMQServer | None,
    duration: float | None = None,
) -> dict[str, Any]:
    h.settle(args)
    with Poller(counter) as poller:
        time.sleep(0.3)
        before = poller.samples[-1][2] if poller.samples else 0
        started = time.perf_counter()
        load = h.run_wrk(
            url,
            connections=args.connections,
            duration=duration or args.duration,
            script=script,
            servers=servers,
        )
        ended = time.perf_counter()
        queue_empty = queue_empty_after(rabbitmq, ended) if rabbitmq is not None else None
        outcome = end_to_end(poller, started, ended, load.requests)
    last = poller.samples[-1]
    # wrk counts the answers it read; requests in flight when it stopped are stored too.
    outcome["stored"] = last[2] - before
    outcome["all_stored_completed"] = last[1] == last[2]
    return {"load": load, **outcome, "queue_empty_s_after_load": queue_empty}


def queue_empty_after(rabbitmq: RabbitMQServer, ended: float) -> float | None:
    """Seconds after `ended` until the billing queues hold no message (ready or unacked)."""
    while time.perf_counter() < ended + 120:
        listing = rabbitmq.ctl("list_queues", "name", "messages", "--no-table-headers", "-q")
        depth = sum(
            int(parts[1])
            for line in listing.splitlines()
            if (parts := line.split()) and parts[0].startswith("billing_queue")
        )
        if depth == 0:
            return time.perf_counter() - ended
        time.sleep(0.1)
    return None


def embedded(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    port = h.free_port()
    up = h.bandstand_process("up", ["up", "--port", str(port)], tmp / "embedded")
    base = f"http://{h.HOST}:{port}"
    with h.started(up, port):
        user = {"username": "bench", "email": "bench@example.com", "password": "Bench-Pass-123"}
        status, _ = h.http_request(port, "POST", "/api/v1/register", user)
        assert status == 201, status
        credentials = {"username": "bench", "password": "Bench-Pass-123"}
        status, body = h.http_request(port, "POST", "/api/v1/login", credentials)
        assert status == 200, status
        token = json.loads(body)["access_token"]
        order = {**ORDER, "user_id": json.loads(body)["user"]["id"]}
        script = tmp / "embedded-order.lua"
        script.write_text(LUA.format(token=token, body=json.dumps(order)))
        url = f"{base}/api/billing"
        h.run_wrk(url, connections=4, duration=2, script=script)
        counter = sqlite_counter(tmp / "embedded" / "var" / "billing.sqlite3")
        return measure(args, url, script, [up], counter, None, duration=args.embedded_duration)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.report:
        print(report(json.loads(args.report.read_text())))
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-billing-") as scratch:
        tmp = Path(scratch)
        results = distributed(args, tmp)
        if args.only_ours:
            print(json.dumps(results["ours"], indent=2, default=str))
            return 0
        results["embedded"] = embedded(args, tmp)
    results["duration_s"] = args.duration
    results["connections"] = args.connections
    path = h.write_results("billing_pipeline", results)
    print(report(json.loads(path.read_text())))
    print(f"\n(wrk, {args.connections} connections; results in {path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
