"""Private PostgreSQL, RabbitMQ and Redis servers for tests.

Every server runs from its own throw-away directory and listens on free loopback ports only, so
tests never touch a system-wide instance and never depend on one being configured.

Servers are ordinary child processes. They are stopped, and their directories removed, by
``cleanup()``, by an exit handler registered when they first start, and (on Linux, when started
from the main thread and ``setpriv`` is available) by the kernel itself if the test process dies
without running its exit handlers.

When the interpreter runs as root the engines run under their packaged service accounts
(``postgres`` and ``rabbitmq``): PostgreSQL refuses to run as root, and RabbitMQ's packaging
expects its own account.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

__all__ = [
    "EngineUnavailable",
    "PostgresServer",
    "RabbitMQServer",
    "RedisServer",
    "ServerCommandError",
    "free_port",
]

_LOOPBACK = "127.0.0.1"
_LOG_TAIL_LINES = 40
_POLL_INTERVAL = 0.1


class EngineUnavailable(RuntimeError):
    """A server engine is not installed, or it could not be started."""


class ServerCommandError(RuntimeError):
    """An administrative command against a running test server failed."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    return _free_ports(1)[0]


def _free_ports(count: int) -> list[int]:
    # Keep every socket bound until all are chosen so that the ports are distinct.
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((_LOOPBACK, 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection((_LOOPBACK, port), timeout=0.5):
            return True
    except OSError:
        return False


# --------------------------------------------------------------------------- process handling


def _service_account(name: str) -> pwd.struct_passwd | None:
    """The account to run an engine as: ``None`` means "as the current user"."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(name)
    except KeyError:
        raise EngineUnavailable(
            f"running as root, but there is no {name!r} account to run the server as"
        ) from None


def _traversable_by_others(path: Path) -> bool:
    return all(part.stat().st_mode & 0o001 for part in (path, *path.parents))


def _make_workdir(prefix: str, account: pwd.struct_passwd | None) -> Path:
    base = Path(tempfile.gettempdir())
    if account is not None and not _traversable_by_others(base):
        base = Path("/tmp")
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    _give_to(path, account)
    return path


def _give_to(path: Path, account: pwd.struct_passwd | None) -> None:
    if account is None:
        return
    os.chown(path, account.pw_uid, account.pw_gid)
    if path.is_dir():
        for child in path.rglob("*"):
            os.chown(child, account.pw_uid, account.pw_gid, follow_symlinks=False)


def _environment(drop_prefixes: tuple[str, ...], extra: dict[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(drop_prefixes)}
    env.update(extra)
    return env


def _death_signal_prefix(sig: signal.Signals) -> list[str]:
    """Ask the kernel to signal the child if this process dies (only safe from the main thread,
    because the signal fires when the thread that started the child exits)."""
    if not sys.platform.startswith("linux"):
        return []
    if threading.current_thread() is not threading.main_thread():
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return []
    return [setpriv, f"--pdeathsig={sig.name.removeprefix('SIG')}", "--"]


def _spawn(
    argv: Sequence[str],
    *,
    account: pwd.struct_passwd | None,
    env: dict[str, str],
    cwd: Path,
    log_path: Path,
    death_signal: signal.Signals,
) -> subprocess.Popen[bytes]:
    command = [*_death_signal_prefix(death_signal), *argv]
    with open(log_path, "ab") as log:
        try:
            return subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=env,
                start_new_session=True,
                user=None if account is None else account.pw_uid,
                group=None if account is None else account.pw_gid,
                extra_groups=None if account is None else [],
            )
        except OSError as exc:
            raise EngineUnavailable(f"could not run {argv[0]}: {exc}") from exc


def _run(
    argv: Sequence[str],
    *,
    account: pwd.struct_passwd | None,
    env: dict[str, str],
    cwd: Path,
    timeout: float,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            list(argv),
            input=input,
            stdin=subprocess.DEVNULL if input is None else None,
            capture_output=True,
            text=True,
            cwd=cwd,
            env=env,
            timeout=timeout,
            check=False,
            user=None if account is None else account.pw_uid,
            group=None if account is None else account.pw_gid,
            extra_groups=None if account is None else [],
        )
    except subprocess.TimeoutExpired as exc:
        raise ServerCommandError(f"{argv[0]} did not finish within {timeout:.0f} s") from exc
    except OSError as exc:
        raise ServerCommandError(f"could not run {argv[0]}: {exc}") from exc


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _stop_process(process: subprocess.Popen[bytes], sig: signal.Signals, timeout: float) -> None:
    """Ask ``process`` to stop with ``sig``; kill its whole process group if it lingers."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process.pid)
            process.wait()
    # Sweep helpers the engine may have left behind in its process group.
    _kill_group(process.pid)


def _tail(paths: Sequence[Path], lines: int = _LOG_TAIL_LINES) -> str:
    parts: list[str] = []
    for path in paths:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        tail = text.splitlines()[-lines:]
        if tail:
            parts.append(f"--- {path} ---\n" + "\n".join(tail))
    return "\n".join(parts) if parts else "(no log output)"


def _wait_until(
    ready: Callable[[], bool],
    *,
    process: subprocess.Popen[bytes],
    what: str,
    timeout: float,
    logs: Callable[[], Sequence[Path]],
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        code = process.poll()
        if code is not None:
            raise EngineUnavailable(
                f"{what} exited with code {code} while starting\n{_tail(logs())}"
            )
        if ready():
            return
        if time.monotonic() > deadline:
            raise EngineUnavailable(
                f"{what} did not become ready within {timeout:.0f} s\n{_tail(logs())}"
            )
        time.sleep(_POLL_INTERVAL)


# --------------------------------------------------------------------------- registry

_live_servers: dict[int, _Server] = {}
_live_lock = threading.Lock()


def _cleanup_live_servers() -> None:
    with _live_lock:
        servers = list(_live_servers.values())
    for server in servers:
        if server.owner_pid == os.getpid():  # never from a forked child
            with contextlib.suppress(Exception):
                server.cleanup()


atexit.register(_cleanup_live_servers)


class _Server:
    """Common lifecycle: ``start``/``stop`` any number of times, then ``cleanup``."""

    _dir_prefix = "bandstand-server-"
    _start_timeout = 60.0

    def __init__(self) -> None:
        self.owner_pid = os.getpid()
        self._workdir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def workdir(self) -> Path:
        """The server's private directory (created on first start)."""
        if self._workdir is None:
            raise RuntimeError(f"{type(self).__name__} has not been started")
        return self._workdir

    def start(self) -> None:
        """Start the server and wait until it answers; a no-op when it is already running."""
        if self.running:
            return
        with _live_lock:
            _live_servers[id(self)] = self
        self._stop()  # reap a server that died on its own, and anything it left behind
        try:
            self._start()
        except BaseException:
            self._stop()
            raise

    def stop(self) -> None:
        """Stop the server, keeping its data and ports for a later ``start``."""
        self._stop()

    def cleanup(self) -> None:
        """Stop the server and delete its directory."""
        try:
            self._stop()
        finally:
            if self._workdir is not None:
                shutil.rmtree(self._workdir, ignore_errors=True)
                self._workdir = None
            with _live_lock:
                _live_servers.pop(id(self), None)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.cleanup()

    def _ensure_workdir(self, account: pwd.struct_passwd | None) -> Path:
        if self._workdir is None:
            self._workdir = _make_workdir(self._dir_prefix, account)
        return self._workdir

    def _require_running(self) -> None:
        if not self.running:
            raise ServerCommandError(f"{type(self).__name__} is not running")

    def _start(self) -> None:
        raise NotImplementedError

    def _stop(self) -> None:
        raise NotImplementedError


# --------------------------------------------------------------------------- PostgreSQL

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


class PostgresServer(_Server):
    """A private PostgreSQL cluster with a trusted ``postgres`` superuser."""

    _dir_prefix = "bandstand-postgres-"

    def __init__(self, *, port: int | None = None) -> None:
        super().__init__()
        self.port = port if port is not None else free_port()
        self._bin_dir: Path | None = None
        self._account: pwd.struct_passwd | None = None

    def url(self, database: str) -> str:
        """SQLAlchemy URL (asyncpg driver) of ``database`` on this server."""
        return f"postgresql+asyncpg://postgres@{_LOOPBACK}:{self.port}/{database}"

    def dsn(self, database: str) -> str:
        """libpq/asyncpg DSN of ``database`` on this server."""
        return f"postgresql://postgres@{_LOOPBACK}:{self.port}/{database}"

    def create_database(self, name: str) -> None:
        self.execute(f"CREATE DATABASE {_quote_identifier(name)}")

    def drop_database(self, name: str) -> None:
        """Drop ``name`` (if it exists), terminating its connections first."""
        self.execute(f"DROP DATABASE IF EXISTS {_quote_identifier(name)} WITH (FORCE)")

    def execute(self, sql: str, database: str = "postgres") -> str:
        """Run ``sql`` with psql as the superuser and return its unaligned output."""
        self._require_running()
        result = _run(
            [
                str(self._binary("psql")),
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                _LOOPBACK,
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
            env=_environment(("PG",), {}),
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
        self._account = _service_account("postgres")
        workdir = self._ensure_workdir(self._account)
        env = _environment(("PG", "LC_"), {"HOME": str(workdir), "LANG": "C"})
        data = workdir / "data"
        if not (data / "PG_VERSION").is_file():
            self._initdb(data, env)
        self._process = _spawn(
            [
                str(postgres),
                "-D",
                str(data),
                "-p",
                str(self.port),
                "-k",
                str(workdir),
                "-c",
                f"listen_addresses={_LOOPBACK}",
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
                probe = _run(
                    [pg_isready, "-q", "-h", _LOOPBACK, "-p", str(self.port), "-U", "postgres"],
                    account=None,
                    env=_environment(("PG",), {}),
                    cwd=workdir,
                    timeout=10,
                )
            except ServerCommandError:
                return False
            return probe.returncode == 0

        _wait_until(
            ready,
            process=self._process,
            what=f"PostgreSQL on port {self.port}",
            timeout=self._start_timeout,
            logs=self._logs,
        )

    def _initdb(self, data: Path, env: dict[str, str]) -> None:
        workdir = self.workdir
        try:
            result = _run(
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
                f"initdb exited with code {result.returncode}\n{_tail([workdir / 'initdb.log'])}"
            )

    def _stop(self) -> None:
        if self._process is not None:
            # SIGINT is PostgreSQL's "fast" shutdown: clients are disconnected at once.
            _stop_process(self._process, signal.SIGINT, timeout=30)
            self._process = None


def _quote_identifier(name: str) -> str:
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return f'"{name}"'


# --------------------------------------------------------------------------- RabbitMQ

_RABBITMQ_CONFIG = """\
disk_free_limit.absolute = 1MB
log.console = false
log.file.level = info
"""

# Deletes every queue and every exchange except the built-in ones in the default vhost.
_RABBITMQ_RESET = """\
VHost = <<"/">>,
Who = <<"bandstand-tests">>,
[rabbit_amqqueue:delete(Q, false, false, Who) || Q <- rabbit_amqqueue:list(VHost)],
[rabbit_exchange:delete(N, false, Who)
 || X <- rabbit_exchange:list(VHost),
    N <- [element(2, X)],
    element(4, N) =/= <<>>,
    not lists:prefix("amq.", binary_to_list(element(4, N)))],
ok.
"""

_RABBITMQ_PURGE = """\
[rabbit_amqqueue:purge(Q) || Q <- rabbit_amqqueue:list(<<"/">>)],
ok.
"""


def _find_rabbitmq_bin_dir() -> Path:
    candidates = [Path("/usr/lib/rabbitmq/bin")]
    found = shutil.which("rabbitmq-server")
    if found is not None:
        resolved = Path(found).resolve()
        # Debian's /usr/sbin entries point at a wrapper that switches users itself.
        if resolved.name == "rabbitmq-server":
            candidates.append(resolved.parent)
    for candidate in candidates:
        if (candidate / "rabbitmq-server").is_file() and (candidate / "rabbitmqctl").is_file():
            return candidate
    raise EngineUnavailable(
        "RabbitMQ is not installed: no rabbitmq-server in /usr/lib/rabbitmq/bin or on PATH "
        "(Debian: apt-get install rabbitmq-server)"
    )


def _find_erlang_tool(name: str) -> Path | None:
    found = shutil.which(name)
    if found is not None:
        return Path(found)
    erlang = Path("/usr/lib/erlang")
    for candidate in [erlang / "bin" / name, *sorted(erlang.glob(f"erts-*/bin/{name}"))]:
        if candidate.is_file():
            return candidate
    return None


class RabbitMQServer(_Server):
    """A private RabbitMQ node with the default ``guest`` user and no plugins.

    The node gets its own epmd on a private port, so it neither needs nor disturbs a
    system-wide one. Administrative calls go through ``erl_call`` when it is available (a few
    milliseconds each) and through ``rabbitmqctl`` (about a second each) otherwise.
    """

    _dir_prefix = "bandstand-rabbitmq-"

    def __init__(self) -> None:
        super().__init__()
        self.port, self.dist_port, self.epmd_port = _free_ports(3)
        self._bin_dir: Path | None = None
        self._erl_call: Path | None = None
        self._account: pwd.struct_passwd | None = None
        self._epmd: subprocess.Popen[bytes] | None = None
        self._app_stopped = False

    @property
    def node_name(self) -> str:
        return f"bandstand-test-{self.port}@localhost"

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@{_LOOPBACK}:{self.port}/"

    def start(self) -> None:
        """Start the node (or the broker application, after ``stop_app``) and wait for it."""
        if self.running and self._app_stopped:
            self.start_app()
            return
        super().start()

    def stop_app(self) -> None:
        """Stop the broker but keep the Erlang node: clients are disconnected and the AMQP
        port refuses connections until ``start_app``. Much faster than ``stop``/``start``."""
        self.eval("rabbit:stop().")
        self._app_stopped = True

    def start_app(self) -> None:
        """Restart the broker after ``stop_app`` and wait until it accepts connections."""
        self._require_running()
        self.eval("rabbit:start().", timeout=self._start_timeout)
        self._app_stopped = False
        assert self._process is not None
        self._wait_booted(self._process, time.monotonic() + self._start_timeout)

    def reset(self) -> None:
        """Delete every queue and every non-built-in exchange of the default vhost."""
        result = self.eval(_RABBITMQ_RESET)
        if result != "ok":
            raise ServerCommandError(f"resetting RabbitMQ answered {result!r}")

    def purge_all_queues(self) -> None:
        """Drop the messages of every queue of the default vhost, keeping the queues."""
        result = self.eval(_RABBITMQ_PURGE)
        if result != "ok":
            raise ServerCommandError(f"purging RabbitMQ queues answered {result!r}")

    def eval(self, expression: str, *, timeout: float = 60) -> str:
        """Evaluate Erlang ``expression`` (ending with a dot) on the node; return the result."""
        self._require_running()
        if self._erl_call is None:
            return self.ctl("eval", expression, timeout=timeout).strip()
        cookie = (self.workdir / "home" / ".erlang.cookie").read_text().strip()
        result = _run(
            [
                str(self._erl_call),
                "-sname",
                self.node_name,
                "-c",
                cookie,
                "-timeout",
                str(max(1, int(timeout))),
                "-e",
            ],
            account=None,
            env=self._env(),
            cwd=self.workdir,
            timeout=timeout + 5,
            input=expression.rstrip() + "\n",
        )
        output = result.stdout.strip()
        if result.returncode != 0 or not (output.startswith("{ok,") and output.endswith("}")):
            raise ServerCommandError(
                f"evaluating {expression.strip()!r} on {self.node_name} failed: "
                f"{(output or result.stderr).strip()}"
            )
        return output.removeprefix("{ok,").removesuffix("}").strip()

    def ctl(self, *args: str, timeout: float = 60) -> str:
        """Run ``rabbitmqctl -n NODE ARGS...`` and return its output."""
        self._require_running()
        result = _run(
            [str(self._bin_dir_path() / "rabbitmqctl"), "-n", self.node_name, *args],
            account=self._account,
            env=self._env(),
            cwd=self.workdir,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise ServerCommandError(
                f"rabbitmqctl {' '.join(args)} failed: {(result.stderr or result.stdout).strip()}"
            )
        return result.stdout

    def _bin_dir_path(self) -> Path:
        if self._bin_dir is None:
            self._bin_dir = _find_rabbitmq_bin_dir()
        return self._bin_dir

    def _env(self) -> dict[str, str]:
        workdir = self.workdir
        return _environment(
            ("RABBITMQ_", "ERL_"),
            {
                "HOME": str(workdir / "home"),
                "LANG": "C.UTF-8",
                "LC_ALL": "C.UTF-8",
                "RABBITMQ_NODENAME": self.node_name,
                "RABBITMQ_NODE_IP_ADDRESS": _LOOPBACK,
                "RABBITMQ_NODE_PORT": str(self.port),
                "RABBITMQ_DIST_PORT": str(self.dist_port),
                "RABBITMQ_MNESIA_BASE": str(workdir / "mnesia"),
                "RABBITMQ_LOG_BASE": str(workdir / "log"),
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(workdir / "enabled_plugins"),
                "RABBITMQ_CONFIG_FILE": str(workdir / "rabbitmq.conf"),
                "RABBITMQ_ADVANCED_CONFIG_FILE": str(workdir / "advanced.config"),
                "RABBITMQ_CONF_ENV_FILE": str(workdir / "rabbitmq-env.conf"),
                "ERL_EPMD_ADDRESS": _LOOPBACK,
                "ERL_EPMD_PORT": str(self.epmd_port),
                "ERL_CRASH_DUMP": str(workdir / "erl_crash.dump"),
            },
        )

    def _logs(self) -> list[Path]:
        workdir = self.workdir
        return [
            workdir / "epmd.log",
            workdir / "rabbitmq.log",
            workdir / "log" / f"{self.node_name}.log",
        ]

    def _prepare(self, workdir: Path) -> None:
        if (workdir / "enabled_plugins").is_file():
            return
        for name in ("home", "mnesia", "log"):
            (workdir / name).mkdir(exist_ok=True)
        (workdir / "enabled_plugins").write_text("[].\n")
        (workdir / "advanced.config").write_text("[].\n")
        (workdir / "rabbitmq-env.conf").write_text("")
        (workdir / "rabbitmq.conf").write_text(_RABBITMQ_CONFIG)
        _give_to(workdir, self._account)

    def _start(self) -> None:
        bin_dir = self._bin_dir_path()
        epmd = _find_erlang_tool("epmd")
        if epmd is None:
            raise EngineUnavailable("Erlang's epmd was not found (it ships with Erlang)")
        self._erl_call = _find_erlang_tool("erl_call")
        self._account = _service_account("rabbitmq")
        workdir = self._ensure_workdir(self._account)
        self._prepare(workdir)
        env = self._env()
        deadline = time.monotonic() + self._start_timeout

        self._epmd = _spawn(
            [str(epmd), "-port", str(self.epmd_port), "-address", _LOOPBACK],
            account=self._account,
            env=env,
            cwd=workdir,
            log_path=workdir / "epmd.log",
            death_signal=signal.SIGTERM,
        )
        _wait_until(
            lambda: _port_open(self.epmd_port),
            process=self._epmd,
            what=f"epmd on port {self.epmd_port}",
            timeout=20,
            logs=self._logs,
        )
        self._process = _spawn(
            [str(bin_dir / "rabbitmq-server")],
            account=self._account,
            env=env,
            cwd=workdir,
            log_path=workdir / "rabbitmq.log",
            death_signal=signal.SIGTERM,
        )
        self._app_stopped = False
        self._wait_booted(self._process, deadline)

    def _wait_booted(self, process: subprocess.Popen[bytes], deadline: float) -> None:
        what = f"RabbitMQ on port {self.port}"
        # The AMQP listener opens near the end of the boot; then wait for the boot to finish.
        _wait_until(
            lambda: _port_open(self.port),
            process=process,
            what=what,
            timeout=max(1.0, deadline - time.monotonic()),
            logs=self._logs,
        )
        if self._erl_call is not None:
            _wait_until(
                self._booted,
                process=process,
                what=what,
                timeout=max(1.0, deadline - time.monotonic()),
                logs=self._logs,
            )
            return
        remaining = max(5, int(deadline - time.monotonic()))
        try:
            self.ctl("await_startup", "--timeout", str(remaining), timeout=remaining + 15)
        except ServerCommandError as exc:
            raise EngineUnavailable(f"{what} did not finish booting: {exc}") from exc

    def _booted(self) -> bool:
        try:
            return self.eval("rabbit:is_booted().", timeout=5) == "true"
        except (ServerCommandError, OSError):
            return False

    def _stop(self) -> None:
        if self._process is not None:
            # The start script turns SIGTERM into an orderly shutdown of the node.
            _stop_process(self._process, signal.SIGTERM, timeout=60)
            self._process = None
        if self._epmd is not None:
            _stop_process(self._epmd, signal.SIGTERM, timeout=10)
            self._epmd = None
        self._app_stopped = False


# --------------------------------------------------------------------------- Redis


def _redis_command(port: int, *args: str, timeout: float = 5.0) -> bytes:
    """Send one command over RESP and return its (single-line) reply."""
    encoded = [arg.encode() for arg in args]
    payload = f"*{len(encoded)}\r\n".encode() + b"".join(
        b"$%d\r\n%s\r\n" % (len(arg), arg) for arg in encoded
    )
    reply = b""
    with socket.create_connection((_LOOPBACK, port), timeout=timeout) as sock:
        sock.sendall(payload)
        while not reply.endswith(b"\r\n"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    return reply.strip()


def _find_redis_server() -> Path:
    found = shutil.which("redis-server")
    if found is not None:
        return Path(found)
    for candidate in (Path("/usr/bin/redis-server"), Path("/usr/sbin/redis-server")):
        if candidate.is_file():
            return candidate
    raise EngineUnavailable(
        "Redis is not installed: no redis-server on PATH (Debian: apt-get install redis-server)"
    )


class RedisServer(_Server):
    """A private, non-persistent Redis server."""

    _dir_prefix = "bandstand-redis-"
    _start_timeout = 30.0

    def __init__(self, *, port: int | None = None) -> None:
        super().__init__()
        self.port = port if port is not None else free_port()

    @property
    def url(self) -> str:
        return f"redis://{_LOOPBACK}:{self.port}/0"

    def command(self, *args: str) -> bytes:
        """Send one command and return its raw single-line reply (e.g. ``b"+OK"``)."""
        self._require_running()
        try:
            return _redis_command(self.port, *args)
        except OSError as exc:
            raise ServerCommandError(f"Redis command {args[0]} failed: {exc}") from exc

    def flushall(self) -> None:
        reply = self.command("FLUSHALL")
        if reply != b"+OK":
            raise ServerCommandError(f"FLUSHALL answered {reply!r}")

    def _logs(self) -> list[Path]:
        return [self.workdir / "redis.log"]

    def _ping(self) -> bool:
        try:
            return _redis_command(self.port, "PING", timeout=1.0) == b"+PONG"
        except OSError:
            return False

    def _start(self) -> None:
        redis_server = _find_redis_server()
        workdir = self._ensure_workdir(None)
        self._process = _spawn(
            [
                str(redis_server),
                "--port",
                str(self.port),
                "--bind",
                _LOOPBACK,
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
                "--daemonize",
                "no",
                "--logfile",
                "",
            ],
            account=None,
            env=dict(os.environ),
            cwd=workdir,
            log_path=workdir / "redis.log",
            death_signal=signal.SIGTERM,
        )
        _wait_until(
            self._ping,
            process=self._process,
            what=f"Redis on port {self.port}",
            timeout=self._start_timeout,
            logs=self._logs,
        )

    def _stop(self) -> None:
        if self._process is not None:
            _stop_process(self._process, signal.SIGTERM, timeout=15)
            self._process = None
