"""Distributed mode with replicas: every service as several real processes on PostgreSQL,
RabbitMQ and Redis, behind one or more gateways, started, stopped, killed and started again."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bandstand import registry
from tests.e2e.processes import Bandstand, bandstand_env
from tests.support.servers import free_port

ADMIN = ("root", "root@example.com", "Admin-Cluster-Pass-1")
GATEWAY = "gateway"
WORKER = "billing-worker"


@dataclass(eq=False)
class Member:
    """One process of the cluster: a replica of a service, a gateway or a worker."""

    role: str
    index: int
    port: int | None
    process: Bandstand

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def label(self) -> str:
        return f"{self.role}[{self.index}]"


@dataclass
class Cluster:
    workdir: Path
    env: dict[str, str]
    members: list[Member] = field(default_factory=list)

    def replicas(self, role: str) -> list[Member]:
        return [member for member in self.members if member.role == role]

    @property
    def gateways(self) -> list[str]:
        return [member.url for member in self.replicas(GATEWAY)]

    def start(self, timeout: float = 180) -> None:
        for member in self.members:
            member.process.start()
        for member in self.members:
            self.wait_ready(member, timeout)

    def wait_ready(self, member: Member, timeout: float = 60) -> None:
        if member.port is not None:
            member.process.wait_until_serving(f"{member.url}/ready", timeout=timeout)

    def restart(self, member: Member, sig: signal.Signals = signal.SIGTERM) -> int | None:
        """Stop `member` (SIGTERM: it drains and must exit 0; SIGKILL: it dies), then start
        it again on the same port; returns the stopped process's exit status."""
        status = self.stop(member, sig)
        self.resume(member)
        return status

    def stop(self, member: Member, sig: signal.Signals) -> int | None:
        if sig == signal.SIGKILL:
            member.process.kill()
            return None
        return member.process.stop(sig, timeout=30)

    def stop_together(self, members: list[Member], timeout: float = 30) -> dict[Member, int]:
        """SIGTERM to each of `members` at once, then their exit statuses (each drains)."""
        for member in members:
            assert member.process.process is not None
            member.process.process.send_signal(signal.SIGTERM)
        statuses: dict[Member, int] = {}
        for member in members:
            assert member.process.process is not None
            try:
                statuses[member] = member.process.process.wait(timeout)
            except subprocess.TimeoutExpired:
                member.process.kill()
                raise AssertionError(f"{member.label} ignored SIGTERM for {timeout} s") from None
        return statuses

    def resume(self, member: Member) -> None:
        """Start `member` again, on its port and data dir, appending to its log."""
        old = member.process
        member.process = Bandstand(*old.args, env=self.env, workdir=old.workdir, name=member.label)
        member.process.start()

    def close(self) -> None:
        for member in self.members:
            member.process.kill()

    def tracebacks(self) -> dict[str, str]:
        """Each member whose log shows a traceback (none expected), with the log from its first
        traceback on."""
        found = {}
        for member in self.members:
            log = member.process.log()
            if "Traceback" in log:
                found[member.label] = log[log.index("Traceback") :][:4000]
        return found


def run_cli(*args: str, env: dict[str, str], cwd: Path) -> None:
    cwd.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "bandstand.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, f"bandstand {' '.join(args)}:\n{done.stdout}\n{done.stderr}"


def prepare_platform(env: dict[str, str], data_dir: Path, admin: tuple[str, str, str]) -> None:
    """Migrate every service's database, seed the demo catalogue and create the admin
    (username, email, password), as an operator does before the first start."""
    run_cli("migrate", "--data-dir", str(data_dir), env=env, cwd=data_dir)
    run_cli("seed", "--demo", "--data-dir", str(data_dir), env=env, cwd=data_dir)
    username, email, password = admin
    run_cli(
        "createsuperuser",
        *("--username", username, "--email", email, "--password", password),
        *("--data-dir", str(data_dir)),
        env=env,
        cwd=data_dir,
    )


def _signing_key(path: Path) -> Path:
    """One Ed25519 key for every identity replica, as a Secret mounted in each would be."""
    key = Ed25519PrivateKey.generate()
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def build_cluster(
    workdir: Path,
    *,
    postgres_url_factory: Callable[[str], str],
    rabbitmq_url: str,
    redis_url: str,
    replicas: int = 2,
    gateways: int = 2,
    workers: int = 1,
) -> Cluster:
    """`replicas` copies of every service, `gateways` gateways and `workers` billing workers,
    not yet started; the databases are migrated, the demo catalogue seeded, an admin created."""
    services = registry.names()
    ports = {name: [free_port() for _ in range(replicas)] for name in services}
    urls = {name: [f"http://127.0.0.1:{port}" for port in ports[name]] for name in services}
    workdir.mkdir(parents=True, exist_ok=True)
    env = bandstand_env(
        BANDSTAND_BROKER_URL=rabbitmq_url,
        BANDSTAND_CACHE_URL=redis_url,
        BANDSTAND_JWT_PRIVATE_KEY_PATH=str(_signing_key(workdir / "signing-key.pem")),
        BANDSTAND_WEB_SECRET="cluster-web-secret-shared-by-every-replica",
        **{
            f"BANDSTAND_DATABASES__{name.upper()}": postgres_url_factory(name)
            for name in registry.with_database()
        },
        **{f"BANDSTAND_SERVICE_URLS__{name.upper()}": json.dumps(urls[name]) for name in services},
    )
    prepare_platform(env, workdir / "setup", ADMIN)
    cluster = Cluster(workdir, env)
    for name in services:
        for index, port in enumerate(ports[name]):
            cluster.members.append(_member(cluster, name, index, ["serve", name], port))
    for index in range(gateways):
        cluster.members.append(_member(cluster, GATEWAY, index, ["serve", GATEWAY], free_port()))
    for index in range(workers):
        cluster.members.append(_member(cluster, WORKER, index, ["worker", "billing"], None))
    return cluster


def _member(
    cluster: Cluster, role: str, index: int, command: list[str], port: int | None
) -> Member:
    label = f"{role}[{index}]"
    data_dir = cluster.workdir / f"{role}-{index}"
    args = [
        *command,
        *(("--port", str(port)) if port is not None else ()),
        "--data-dir",
        str(data_dir),
    ]
    process = Bandstand(*args, env=cluster.env, workdir=data_dir, name=label)
    return Member(role, index, port, process)


def rolling_order(cluster: Cluster) -> Iterator[list[Member]]:
    """Rounds of a rolling restart: in each, one copy of every service, gateway and worker."""
    rounds = max(member.index for member in cluster.members) + 1
    for index in range(rounds):
        yield [member for member in cluster.members if member.index == index]


def wait(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.1)
