"""Competing consumers on PostgreSQL, RabbitMQ and Redis, every part a real `bandstand` process.

- Three billing workers take orders from one `billing_queue`; while orders are being placed one
  is killed (SIGKILL) and one stopped (SIGTERM). Every order ends completed, billed once: one
  `billing.order.completed` event each, and no order billed by two workers.
- Two replicas of admin share one audit queue: each event is recorded once and reaches one
  replica, not both.
- Retention, a scheduled job of every replica, runs once across replicas: while another holds
  its lock neither replica prunes; afterwards exactly one does.

The identity service is not needed: tokens are signed with a test key whose JWKS is served here.
"""

from __future__ import annotations

import json
import re
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bandstand.platform.retention import lock_key
from tests.e2e.processes import Bandstand, bandstand_env
from tests.e2e.support import Sql, served_jwks
from tests.support.servers import RabbitMQServer, free_port
from tests.support.tokens import TokenFactory

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.redis]

ORDERS = 900
CLIENTS = 8
PREFETCH = 64
BILLED = re.compile(r"order ([0-9a-f-]{36}) completed")
"""The billing worker's line for an order it billed (at DEBUG); a redelivery of an order that is
billed already changes nothing and logs nothing."""
HANDLED = re.compile(
    r'^bandstand_messages_handled_total\{outcome="acked",queue="admin.audit"\} (\S+)$', re.M
)


def _serve(name: str, port: int, env: dict[str, str], workdir: Path, label: str) -> Bandstand:
    return Bandstand(
        *("serve", name, "--port", str(port), "--data-dir", str(workdir)),
        env=env,
        workdir=workdir,
        name=label,
    )


def _eventually(check: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.02)


def _billed(worker: Bandstand) -> set[str]:
    return set(BILLED.findall(worker.log()))


class OrderPlacer:
    """Places `total` orders through the billing API from `clients` threads, in the background."""

    def __init__(self, url: str, token: str, total: int, clients: int) -> None:
        self.url, self.token, self.total = url, token, total
        self.accepted: list[str] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._in_flight = 0
        self._pool = ThreadPoolExecutor(clients)
        self._futures = [self._pool.submit(self._client) for _ in range(clients)]

    def _take(self) -> bool:
        with self._lock:
            if len(self.accepted) + len(self.errors) + self._in_flight >= self.total:
                return False
            self._in_flight += 1
            return True

    def _client(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        body = {"number_of_items": 3, "total_amount": "99.97"}
        with httpx.Client(timeout=30) as http:
            while self._take():
                response = http.post(self.url, json=body, headers=headers)
                with self._lock:
                    self._in_flight -= 1
                    if response.status_code == 202:
                        self.accepted.append(response.json()["id"])
                    else:
                        self.errors.append(f"{response.status_code} {response.text}")

    @property
    def done(self) -> bool:
        return all(future.done() for future in self._futures)

    def wait(self, timeout: float) -> None:
        for future in self._futures:
            future.result(timeout)
        self._pool.shutdown()


@pytest.fixture
def jwks_url(tokens: TokenFactory) -> Iterator[str]:
    with served_jwks(tokens) as url:
        yield url


@pytest.mark.timeout(150)
def test_competing_workers_bill_each_order_once_and_replicas_share_their_queue(
    postgres_url_factory: Callable[[str], str],
    rabbitmq_server: RabbitMQServer,
    rabbitmq_url: str,
    redis_url: str,
    tokens: TokenFactory,
    jwks_url: str,
    tmp_path: Path,
) -> None:
    billing_db, admin_db = postgres_url_factory("billing"), postgres_url_factory("admin")
    env = bandstand_env(
        BANDSTAND_BROKER_URL=rabbitmq_url,
        BANDSTAND_CACHE_URL=redis_url,
        BANDSTAND_JWKS_URL=jwks_url,
        BANDSTAND_DATABASES__BILLING=billing_db,
        BANDSTAND_DATABASES__ADMIN=admin_db,
        BANDSTAND_WORKER_PREFETCH=str(PREFETCH),
        BANDSTAND_ACCESS_LOG="false",
    )
    billing_port, admin_ports = free_port(), (free_port(), free_port())
    api = _serve("billing", billing_port, env, tmp_path / "billing", "billing")
    admins = [
        _serve("admin", port, env, tmp_path / f"admin-{i}", f"admin-{i}")
        for i, port in enumerate(admin_ports, 1)
    ]
    workers = [
        Bandstand(
            "worker",
            "billing",
            env={**env, "BANDSTAND_LOG_LEVEL": "DEBUG"},
            workdir=tmp_path / f"worker-{name}",
            name=f"worker-{name}",
        )
        for name in ("a", "b", "c")
    ]
    with ExitStack() as stack:
        # All at once, as replicas start: their migrations take turns (an advisory lock).
        for process in (api, *admins, *workers):
            stack.enter_context(process)
        sql = stack.enter_context(Sql(billing_db))
        audit = stack.enter_context(Sql(admin_db))
        api.wait_until_serving(f"http://127.0.0.1:{billing_port}/ready", timeout=60)
        for admin, port in zip(admins, admin_ports, strict=True):
            admin.wait_until_serving(f"http://127.0.0.1:{port}/ready", timeout=60)
        for worker in workers:
            _eventually(lambda w=worker: "consuming billing_queue" in w.log(), 60, "consuming")
        killed, stopped, survivor = workers

        placer = OrderPlacer(
            f"http://127.0.0.1:{billing_port}/api/v1/billing/orders",
            tokens.token(user_id=7, lifetime=600),
            ORDERS,
            CLIENTS,
        )
        # Each worker goes once it has billed orders, while more are still being placed.
        _eventually(lambda: len(placer.accepted) >= ORDERS // 4 and _billed(killed), 60, "a")
        killed.kill()
        assert len(placer.accepted) < ORDERS, "the load ended before the kill"
        _eventually(lambda: len(placer.accepted) >= ORDERS // 2 and _billed(stopped), 60, "b")
        assert not placer.done, "the load ended before the stop"
        assert stopped.stop(signal.SIGTERM, timeout=40) == 0, stopped.log()[-4000:]
        placer.wait(60)
        assert placer.errors == []
        assert len(placer.accepted) == ORDERS

        def all_completed() -> bool:
            completed = sql.value("SELECT count(*) FROM orders WHERE status = 'completed'")
            return bool(completed == ORDERS)

        _eventually(all_completed, 60, "every order completed")
        _billed_once(sql, set(placer.accepted), [_billed(w) for w in workers])
        _audited_once(audit, admins, admin_ports, rabbitmq_server)

        for process in (survivor, *admins, api):
            assert process.stop(signal.SIGTERM, timeout=40) == 0, process.log()[-4000:]
    for process in (api, *admins, *workers):
        assert "Traceback" not in process.log(), process.log()[-4000:]


def _billed_once(sql: Sql, accepted: set[str], by_worker: list[set[str]]) -> None:
    """Each accepted order completed with one completion event, and billed by one worker."""
    orders = {str(row["id"]): row["status"] for row in sql.rows("SELECT id, status FROM orders")}
    assert set(orders) == accepted
    assert set(orders.values()) == {"completed"}
    events = sql.rows(
        "SELECT routing_key, (body::json -> 'payload' ->> 'order_id') AS order_id, count(*) AS n"
        " FROM outbox GROUP BY 1, 2"
    )
    for routing_key in ("billing.order.created", "billing.order.completed"):
        counted = {row["order_id"]: row["n"] for row in events if row["routing_key"] == routing_key}
        assert set(counted) == accepted, routing_key
        assert set(counted.values()) == {1}, routing_key
    assert {row["routing_key"] for row in events} == {
        "billing.order.created",
        "billing.order.completed",
    }
    # Every worker took orders, and no order was billed by two of them.
    assert all(by_worker), [len(billed) for billed in by_worker]
    logged = set().union(*by_worker)
    assert sum(len(billed) for billed in by_worker) == len(logged)
    assert logged <= accepted
    # Orders the killed worker committed but had not logged yet: at most what it held.
    assert len(accepted - logged) <= PREFETCH


def _audited_once(
    audit: Sql, admins: list[Bandstand], ports: tuple[int, int], rabbitmq: RabbitMQServer
) -> None:
    """Admin's replicas consume one `admin.audit` queue: each event is recorded once, and the
    replicas between them took each message about once (both would take every message if each
    had a queue of its own)."""
    events = 2 * ORDERS

    def recorded() -> bool:
        return bool(audit.value("SELECT count(*) FROM audit_log") == events)

    _eventually(recorded, 60, "every event in the audit log")
    rows = audit.rows(
        "SELECT action, count(*) AS n, count(DISTINCT target_id) AS orders FROM audit_log"
        " GROUP BY action"
    )
    assert {row["action"]: (row["n"], row["orders"]) for row in rows} == {
        "billing.order.created": (ORDERS, ORDERS),
        "billing.order.completed": (ORDERS, ORDERS),
    }
    listing = rabbitmq.ctl("list_queues", "name", "consumers", "--no-table-headers", "-q")
    queues = dict(line.split() for line in listing.splitlines() if line.strip())
    # One queue for the service (and its dead letters), which both replicas consume.
    assert {name: count for name, count in queues.items() if name.startswith("admin")} == {
        "admin.audit": "2",
        "admin.audit.dlq": "0",
    }
    taken = []
    for port in ports:
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        match = HANDLED.search(metrics)
        taken.append(float(match.group(1)) if match else 0.0)
    assert all(taken), (taken, [admin.log()[-2000:] for admin in admins])
    # A relay killed between publishing and marking rows published publishes them again (at
    # most its batch of 100): those come twice, and the log records them once.
    assert events <= sum(taken) <= events + 100, taken


@pytest.mark.timeout(90)
def test_retention_runs_once_across_replicas(
    postgres_url_factory: Callable[[str], str],
    rabbitmq_url: str,
    redis_url: str,
    tmp_path: Path,
) -> None:
    admin_db = postgres_url_factory("admin")
    env = bandstand_env(
        BANDSTAND_BROKER_URL=rabbitmq_url,
        BANDSTAND_CACHE_URL=redis_url,
        BANDSTAND_DATABASES__ADMIN=admin_db,
        BANDSTAND_RETENTION_INTERVAL_SECONDS="0.5",
        BANDSTAND_RETENTION_BATCH_SIZE="10",
        BANDSTAND_ACCESS_LOG="false",
    )
    ports = (free_port(), free_port())
    replicas = [
        _serve("admin", port, env, tmp_path / f"admin-{i}", f"admin-{i}")
        for i, port in enumerate(ports, 1)
    ]
    old, published = 45, datetime.now(UTC) - timedelta(days=30)
    with ExitStack() as stack:
        for replica in replicas:
            stack.enter_context(replica)
        sql = stack.enter_context(Sql(admin_db))
        # A third replica, in the middle of its run, holds the job's lock.
        assert sql.value("SELECT pg_try_advisory_lock($1)", lock_key("admin")) is True
        for replica, port in zip(replicas, ports, strict=True):
            replica.wait_until_serving(f"http://127.0.0.1:{port}/ready", timeout=60)
        sql.rows(
            "INSERT INTO outbox (message_id, routing_key, body, created_at, published_at, attempts)"
            " SELECT $1 || n, 'admin.setting.updated', '{}', $2, $2, 1"
            " FROM generate_series(1, $3) AS n",
            uuid.uuid4().hex[:20],
            published,
            old,
        )

        def remaining() -> int:
            return int(sql.value("SELECT count(*) FROM outbox WHERE published_at <= $1", published))

        # Several runs of each replica come and go (every 0.5 s), all finding the lock taken.
        time.sleep(3)
        assert remaining() == old
        assert sql.value("SELECT pg_advisory_unlock($1)", lock_key("admin")) is True
        _eventually(lambda: remaining() == 0, 30, "old outbox rows pruned")
        time.sleep(1.5)  # more runs, with nothing left to prune
        for replica in replicas:
            assert replica.stop(signal.SIGTERM, timeout=40) == 0, replica.log()[-4000:]
    pruned = [
        json.loads(line)["event"]
        for replica in replicas
        for line in replica.log().splitlines()
        if "retention: pruned" in line
    ]
    # One run of one replica pruned them all, in 5 batches.
    assert pruned == [f"retention: pruned {{'outbox': {old}}} in admin"]
