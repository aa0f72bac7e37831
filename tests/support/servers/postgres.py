"""A private PostgreSQL server for tests."""

from __future__ import annotations

import pwd
import re
import shutil
import signal
from pathlib import Path

from tests.support.servers.base import (
    LOOPBACK,
    EngineUnavailable,
    ManagedServer,
    ServerCommandError,
    child_environment,
    free_port,
    log_tail,
    run_command,
    service_account,
    spawn,
    stop_process,
    wait_until,
)

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def _find_postgres_bin_dir() -> Path:
    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))

    packaged = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    for candidate in packaged:
        if (candidate / "initdb").is_file() and (candidate / "postgres").is_file():
            return candidate
    initdb = shutil.which("initdb")
    if initdb is not None:
        candidate = Path(initdb).resolve().parent
        if (candidate / "postgres").is_file():
            return candidate
    raise EngineUnavailable(
        "PostgreSQL is not installed: no initdb/postgres under /usr/lib/postgresql/*/bin "
        "or on PATH (Debian: apt-get install postgresql)"
    )


class PostgresServer(ManagedServer):
    """A private PostgreSQL cluster with a trusted ``postgres`` superuser."""

    _dir_prefix = "bandstand-postgres-"

    def __init__(self, *, port: int | None = None) -> None:
        super().__init__()
        self.port = port if port is not None else free_port()
        self._bin_dir: Path | None = None
        self._account: pwd.struct_passwd | None = None

    def url(self, database: str) -> str:
        """SQLAlchemy URL (asyncpg driver) of ``database`` on this server."""
        return f"postgresql+asyncpg://postgres@{LOOPBACK}:{self.port}/{database}"

    def dsn(self, database: str) -> str:
        """libpq/asyncpg DSN of ``database`` on this server."""
        return f"postgresql://postgres@{LOOPBACK}:{self.port}/{database}"

    def create_database(self, name: str) -> None:
        self.execute(f"CREATE DATABASE {_quote_identifier(name)}")

    def drop_database(self, name: str) -> None:
        """Drop ``name`` (if it exists), terminating its connections first."""
        self.execute(f"DROP DATABASE IF EXISTS {_quote_identifier(name)} WITH (FORCE)")

    def execute(self, sql: str, database: str = "postgres") -> str:
        """Run ``sql`` with psql as the superuser and return its unaligned output."""
        self._require_running()
        result = run_command(
            [
                str(self._binary("psql")),
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                LOOPBACK,
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-c",
                sql,
            ],
            account=None,
            env=child_environment(("PG",), {}),
            cwd=self.workdir,
            timeout=60,
        )
        if result.returncode != 0:
            raise ServerCommandError(f"psql failed on {sql!r}: {result.stderr.strip()}")
        return result.stdout

    def _binary(self, name: str) -> Path:
        if self._bin_dir is None:
            self._bin_dir = _find_postgres_bin_dir()
        path = self._bin_dir / name
        if not path.is_file():
            found = shutil.which(name)
            if found is None:
                raise EngineUnavailable(f"PostgreSQL tool {name!r} not found in {self._bin_dir}")
            return Path(found)
        return path

    def _logs(self) -> list[Path]:
        return [self.workdir / "postgres.log"]

    def _start(self) -> None:
        postgres = self._binary("postgres")
        self._account = service_account("postgres")
        workdir = self._ensure_workdir(self._account)
        env = child_environment(("PG", "LC_"), {"HOME": str(workdir), "LANG": "C"})
        data = workdir / "data"
        if not (data / "PG_VERSION").is_file():
            self._initdb(data, env)
        self._process = spawn(
            [
                str(postgres),
                "-D",
                str(data),
                "-p",
                str(self.port),
                "-k",
                str(workdir),
                "-c",
                f"listen_addresses={LOOPBACK}",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
            ],
            account=self._account,
            env=env,
            cwd=workdir,
            log_path=workdir / "postgres.log",
            death_signal=signal.SIGINT,
        )
        pg_isready = str(self._binary("pg_isready"))

        def ready() -> bool:
            try:
                probe = run_command(
                    [pg_isready, "-q", "-h", LOOPBACK, "-p", str(self.port), "-U", "postgres"],
                    account=None,
                    env=child_environment(("PG",), {}),
                    cwd=workdir,
                    timeout=10,
                )
            except ServerCommandError:
                return False
            return probe.returncode == 0

        wait_until(
            ready,
            process=self._process,
            what=f"PostgreSQL on port {self.port}",
            timeout=self._start_timeout,
            logs=self._logs,
        )

    def _initdb(self, data: Path, env: dict[str, str]) -> None:
        workdir = self.workdir
        try:
            result = run_command(
                [
                    str(self._binary("initdb")),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-locale",
                    "--no-sync",
                ],
                account=self._account,
                env=env,
                cwd=workdir,
                timeout=120,
            )
        except ServerCommandError as exc:
            raise EngineUnavailable(f"initdb failed: {exc}") from exc
        (workdir / "initdb.log").write_text(result.stdout + result.stderr)
        if result.returncode != 0:
            raise EngineUnavailable(
                f"initdb exited with code {result.returncode}\n{log_tail([workdir / 'initdb.log'])}"
            )

    def _stop(self) -> None:
        if self._process is not None:
            # SIGINT is PostgreSQL's "fast" shutdown: clients are disconnected at once.
            stop_process(self._process, signal.SIGINT, timeout=30)
            self._process = None


def _quote_identifier(name: str) -> str:
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return f'"{name}"'


# --------------------------------------------------------------------------- RabbitMQ
