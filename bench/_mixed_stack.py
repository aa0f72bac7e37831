"""The platform distributed for the mixed load: private PostgreSQL, RabbitMQ and Redis, every
service as its own `bandstand serve` process (some with two replicas), the billing worker and
one gateway; the data (bulk songs and listings, the demo catalogue, an admin and user accounts).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _harness as h
import _music_data as music_data
import gen_instruments
from _support import PostgresServer, RabbitMQServer, RedisServer
from bandstand import registry

ADMIN, ADMIN_PASSWORD = "load-admin", "Load-Admin-Pass-2026"
USER_PASSWORD = "Load-Member-Pass-2026"  # noqa: S105 - a private test server's account


@dataclass
class Stack:
    """What `started_stack` yields: the processes by name, the engines and the gateway's port."""

    gateway_port: int
    processes: dict[str, h.Process]
    engines: dict[str, PostgresServer | RabbitMQServer | RedisServer]
    replicas: dict[str, int]
    data: dict[str, Any] = field(default_factory=dict)

    def pids(self) -> dict[str, list[int]]:
        """Every measured tree (process and children) by name, engines included."""
        trees = {name: process.tree() for name, process in self.processes.items()}
        for name, engine in self.engines.items():
            trees[name] = [] if engine.pid is None else h.descendants(engine.pid)
        return trees


def _run(argv: list[str], env: dict[str, str], what: str, timeout: float = 300) -> str:
    completed = subprocess.run(
        argv, env=h.process_env(env), capture_output=True, text=True, timeout=timeout, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"{what} failed:\n{completed.stdout[-2000:]}\n{completed.stderr[-2000:]}"
        )
    return completed.stdout


def _prepare_data(env: dict[str, str], work: Path, songs: int, listings: int) -> dict[str, Any]:
    """Migrate every database; bulk songs (with likes) and listings; the demo catalogue; the
    admin. Bulk rows go first: the demo's rows take the ids after them."""
    bandstand = h.bandstand_command()
    data_dir = ["--data-dir", str(work / "setup" / "var")]
    _run([*bandstand, "migrate", *data_dir], env, "migrate")
    loaded = music_data.load(
        "postgres", env["BANDSTAND_DATABASES__MUSIC"], work, songs=songs, likes=songs * 10
    )
    csv_path = work / "listings.csv"
    with open(csv_path, "w", encoding="utf-8", newline="") as out:
        gen_instruments.write(listings, out, "csv", seed=4)
    _run([*bandstand, "import", "instruments", str(csv_path), *data_dir], env, "import")
    _run([*bandstand, "seed", "--demo", *data_dir], env, "seed --demo")
    _run(
        [
            *(*bandstand, "createsuperuser", "--username", ADMIN),
            *("--email", "admin@load.example", "--data-dir", str(work / "identity" / "var")),
        ],
        {**env, "BANDSTAND_SUPERUSER_PASSWORD": ADMIN_PASSWORD},
        "createsuperuser",
    )
    return {"bulk": loaded, "listings_imported": listings}


def _env(postgres: PostgresServer, rabbitmq: RabbitMQServer, redis: RedisServer) -> dict[str, str]:
    env = {"BANDSTAND_BROKER_URL": rabbitmq.url, "BANDSTAND_CACHE_URL": redis.url}
    for name in registry.with_database():
        postgres.create_database(f"load_{name}")
        env[f"BANDSTAND_DATABASES__{name.upper()}"] = postgres.url(f"load_{name}")
    return env


def _processes(
    env: dict[str, str], work: Path, replicas: dict[str, int]
) -> tuple[dict[str, h.Process], dict[str, int], int]:
    """The processes (not started), the port of each, the gateway's port."""
    ports: dict[str, int] = {}
    urls: dict[str, list[str]] = {}
    for service in registry.names():
        for index in range(1, replicas.get(service, 1) + 1):
            name = service if replicas.get(service, 1) == 1 else f"{service}-{index}"
            ports[name] = h.free_port()
            urls.setdefault(service, []).append(f"http://{h.HOST}:{ports[name]}")
    shared = {
        **env,
        "BANDSTAND_JWKS_URL": f"{urls['identity'][0]}/.well-known/jwks.json",
        **{
            f"BANDSTAND_SERVICE_URLS__{service.upper()}": json.dumps(service_urls)
            for service, service_urls in urls.items()
        },
    }
    processes: dict[str, h.Process] = {}
    for name, port in ports.items():
        service = name.split("-")[0]
        argv = ["serve", service, "--port", str(port)]
        processes[name] = h.bandstand_process(name, argv, work / name, extra_env=shared)
    gateway_port = h.free_port()
    processes["gateway"] = h.bandstand_process(
        "gateway",
        ["serve", "gateway", "--port", str(gateway_port)],
        work / "gateway",
        extra_env=shared,
    )
    processes["billing-worker"] = h.bandstand_process(
        "billing-worker", ["worker", "billing"], work / "billing-worker", extra_env=shared
    )
    ports["gateway"] = gateway_port
    return processes, ports, gateway_port


def _wait_all(processes: dict[str, h.Process], ports: dict[str, int]) -> dict[str, float]:
    ready: dict[str, float] = {}
    for name, process in processes.items():
        if name in ports:
            ready[name] = process.wait_ready(ports[name], timeout=180)
    return ready


def _accounts(gateway_port: int, count: int, first: int = 1) -> list[dict[str, Any]]:
    """`count` users registered and signed in through the gateway (argon2id: a few at a time)."""

    def one(index: int) -> dict[str, Any]:
        username = f"listener{index:05d}"
        user = {
            "username": username,
            "email": f"{username}@load.example",
            "password": USER_PASSWORD,
        }
        status, body = h.http_request(gateway_port, "POST", "/api/v1/register", user, timeout=60)
        if status != 201:
            raise RuntimeError(f"register {username}: {status} {body[:300]!r}")
        return {"username": username, "password": USER_PASSWORD, **_login(gateway_port, user)}

    with ThreadPoolExecutor(max_workers=3) as pool:
        return list(pool.map(one, range(first, first + count)))


def _login(gateway_port: int, credentials: dict[str, str]) -> dict[str, Any]:
    given = {"username": credentials["username"], "password": credentials["password"]}
    status, body = h.http_request(gateway_port, "POST", "/api/v1/login", given, timeout=60)
    if status != 200:
        raise RuntimeError(f"login {given['username']}: {status} {body[:300]!r}")
    answer = json.loads(body)
    return {"token": answer["access_token"], "user_id": answer["user"]["id"]}


def _get(gateway_port: int, path: str) -> Any:
    status, body = h.http_request(gateway_port, "GET", path, timeout=30)
    if status != 200:
        raise RuntimeError(f"GET {path}: {status} {body[:300]!r}")
    return json.loads(body)


def _catalogue(gateway_port: int) -> dict[str, Any]:
    """The ids the journeys pick from (concerts, courses and their lessons, movies)."""
    songs = _get(gateway_port, "/api/v1/songs?page_size=1")["count"]
    concerts = [c["id"] for c in _get(gateway_port, "/api/v1/concerts?page_size=100")["results"]]
    movies = [m["id"] for m in _get(gateway_port, "/api/v1/movies?page_size=100")["results"]]
    courses: dict[str, list[int]] = {}
    for course in _get(gateway_port, "/api/v1/courses?page_size=100")["results"]:
        lessons = _get(gateway_port, f"/api/v1/courses/{course['id']}/lessons?page_size=100")
        courses[str(course["id"])] = [lesson["id"] for lesson in lessons["results"]]
    # Visible listings only: an expired one answers 404 to anyone but an admin.
    listings = [
        listing["id"]
        for page in range(1, 6)
        for listing in _get(gateway_port, f"/api/v1/instruments?page_size=100&page={page}")[
            "results"
        ]
    ]
    return {
        "songs": songs,
        "concerts": concerts,
        "movies": movies,
        "courses": courses,
        "listings": listings,
    }


@contextlib.contextmanager
def started_stack(
    work: Path,
    *,
    replicas: dict[str, int],
    accounts: int,
    learner_accounts: int,
    songs: int,
    listings: int,
) -> Iterator[Stack]:
    postgres, rabbitmq, redis = PostgresServer(), RabbitMQServer(), RedisServer()
    try:
        postgres.start()
        rabbitmq.start()
        redis.start()
        env = _env(postgres, rabbitmq, redis)
        prepared = _prepare_data(env, work, songs, listings)
        processes, ports, gateway_port = _processes(env, work, replicas)
        with contextlib.ExitStack() as stack:
            for process in processes.values():
                stack.enter_context(process)
            ready = _wait_all(processes, ports)
            engines: dict[str, PostgresServer | RabbitMQServer | RedisServer] = {
                "postgresql": postgres,
                "rabbitmq": rabbitmq,
                "redis": redis,
            }
            result = Stack(gateway_port, processes, engines, replicas)
            result.data = {
                **prepared,
                "ready_s": ready,
                "catalogue": _catalogue(gateway_port),
                "listings_visible": _get(gateway_port, "/api/v1/instruments?page_size=1")["count"],
                "admin": _login(gateway_port, {"username": ADMIN, "password": ADMIN_PASSWORD}),
                "accounts": _accounts(gateway_port, accounts),
                "learner_accounts": _accounts(gateway_port, learner_accounts, first=accounts + 1),
            }
            yield result
    finally:
        for engine in (redis, rabbitmq, postgres):
            with contextlib.suppress(Exception):
                engine.cleanup()
