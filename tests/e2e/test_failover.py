"""Replicas under a mixed load: one killed, one drained, then a rolling restart of everything.

Every service runs as two processes on PostgreSQL, RabbitMQ and Redis, behind two gateways; a
billing worker consumes the orders. While virtual users keep requesting:
- `kill -9` of a music replica: no request started after the kill fails (those in flight on it
  may, and are counted);
- SIGTERM to a music replica: it drains and exits 0, and no request fails at all;
- a rolling restart of every service, gateway and worker, one copy of each at a time: no
  request fails.
"""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Callable, Iterator, Sequence

import httpx
import pytest

from tests.e2e.cluster import ADMIN, Cluster, build_cluster, rolling_order, wait
from tests.e2e.load import MixedLoad
from tests.support.servers import PostgresServer, RabbitMQServer, RedisServer

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.postgres,
    pytest.mark.rabbitmq,
    pytest.mark.redis,
    pytest.mark.timeout(600),
]
USERS = 6
PASSWORD = "Listener-Cluster-Pass-1"


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory,
    postgres_server: PostgresServer,
    rabbitmq_server: RabbitMQServer,
    redis_server: RedisServer,
) -> Iterator[Cluster]:
    rabbitmq_server.start()
    rabbitmq_server.reset()
    redis_server.start()
    redis_server.flushall()
    postgres_server.start()

    def database(service: str) -> str:
        name = f"failover_{service}_{uuid.uuid4().hex[:8]}"
        postgres_server.create_database(name)
        return postgres_server.url(name)

    built = build_cluster(
        tmp_path_factory.mktemp("cluster"),
        postgres_url_factory=database,
        rabbitmq_url=rabbitmq_server.url,
        redis_url=redis_server.url,
    )
    try:
        built.start()
        yield built
    finally:
        built.close()


@pytest.fixture(scope="module")
def people(cluster: Cluster) -> tuple[list[str], str, dict[str, list[int]]]:
    """Users' tokens, the admin's, and the catalogue's ids."""
    with httpx.Client(base_url=cluster.gateways[0], timeout=30) as http:
        tokens = []
        for number in range(USERS):
            name = f"listener{number}"
            registered = http.post(
                "/api/v1/register",
                json={"username": name, "email": f"{name}@example.com", "password": PASSWORD},
            )
            assert registered.status_code == 201, registered.text
            tokens.append(_token(http, name, PASSWORD))
        admin = _token(http, ADMIN[0], ADMIN[2])
        catalogue = {
            "songs": _ids(http, "/api/v1/songs?page_size=50"),
            "concerts": _ids(http, "/api/v1/concerts?page_size=50"),
            "courses": _ids(http, "/api/v1/courses?page_size=50"),
        }
    return tokens, admin, catalogue


def _token(http: httpx.Client, username: str, password: str) -> str:
    response = http.post("/api/v1/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _ids(http: httpx.Client, path: str) -> list[int]:
    response = http.get(path)
    assert response.status_code == 200, response.text
    ids = [int(item["id"]) for item in response.json()["results"]]
    assert ids, path
    return ids


@pytest.fixture
def load(
    cluster: Cluster, people: tuple[list[str], str, dict[str, list[int]]]
) -> Iterator[MixedLoad]:
    tokens, admin, catalogue = people
    with MixedLoad(cluster.gateways, tokens, admin, catalogue) as running:
        running.wait_for_requests(100)
        yield running


def _every_replica_in(cluster: Cluster, admin: str) -> Callable[[], bool]:
    """Each gateway sends traffic to every replica again: its `/ready` (an admin's view)
    lists every replica of every service up."""

    def check() -> bool:
        for gateway in cluster.gateways:
            try:
                body = httpx.get(
                    f"{gateway}/ready", headers={"Authorization": f"Bearer {admin}"}, timeout=5
                ).json()
            except (httpx.HTTPError, ValueError):
                return False
            for service in body.get("services", {}).values():
                if set(service.get("replicas", {}).values()) != {"up"}:
                    return False
        return True

    return check


def _report(outcomes: Sequence[object]) -> str:
    return "\n".join(repr(outcome) for outcome in outcomes[:20])


def test_kill_9_of_a_replica_fails_no_request_sent_after_it(
    cluster: Cluster, load: MixedLoad
) -> None:
    victim = cluster.replicas("music")[0]
    before = len(load.outcomes)
    cluster.stop(victim, signal.SIGKILL)
    killed_at = time.monotonic()
    load.wait_for_requests(300)
    in_flight = [o for o in load.outcomes[before:] if o.started < killed_at and not o.ok]
    after = load.since(killed_at)
    assert load.failures(after) == [], _report(load.failures(after))
    assert len(after) >= 250
    # Only requests already on the killed replica may have failed.
    assert len(in_flight) <= USERS + 1, _report(in_flight)
    cluster.resume(victim)
    cluster.wait_ready(victim)
    wait(_every_replica_in(cluster, load.admin), 30, "the restarted replica back in the gateways")
    load.wait_for_requests(100)
    assert load.failures(load.since(killed_at)) == []


def test_sigterm_drains_a_replica_and_fails_no_request(cluster: Cluster, load: MixedLoad) -> None:
    started = time.monotonic()
    victim = cluster.replicas("music")[1]
    assert cluster.restart(victim, signal.SIGTERM) == 0, victim.process.log()[-3000:]
    assert "draining" in victim.process.log()
    cluster.wait_ready(victim)
    wait(_every_replica_in(cluster, load.admin), 30, "the restarted replica back in the gateways")
    load.wait_for_requests(100)
    during = load.since(started)
    assert load.failures(during) == [], _report(load.failures(during))


def test_a_rolling_restart_of_every_service_loses_no_request(
    cluster: Cluster, load: MixedLoad
) -> None:
    started = time.monotonic()
    for round_ in rolling_order(cluster):
        for member, status in cluster.stop_together(round_).items():
            assert status == 0, f"{member.label} exited {status}:\n{member.process.log()[-3000:]}"
        for member in round_:
            cluster.resume(member)
        for member in round_:
            cluster.wait_ready(member, timeout=120)
        wait(_every_replica_in(cluster, load.admin), 60, "every replica back in the gateways")
        load.wait_for_requests(50)
    during = load.since(started)
    assert len(during) >= 200
    assert load.failures(during) == [], _report(load.failures(during))
    tracebacks = cluster.tracebacks()
    assert not tracebacks, "\n\n".join(f"{label}:\n{log}" for label, log in tracebacks.items())
