"""A private RabbitMQ node for tests."""

from __future__ import annotations

import pwd
import shutil
import signal
import subprocess
import time
from pathlib import Path

from tests.support.servers.base import (
    LOOPBACK,
    EngineUnavailable,
    ManagedServer,
    ServerCommandError,
    child_environment,
    free_ports,
    give_to,
    port_open,
    run_command,
    service_account,
    spawn,
    stop_process,
    wait_until,
)

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


class RabbitMQServer(ManagedServer):
    """A private RabbitMQ node with the default ``guest`` user and no plugins.

    The node gets its own epmd on a private port, so it neither needs nor disturbs a
    system-wide one. Administrative calls go through ``erl_call`` when it is available (a few
    milliseconds each) and through ``rabbitmqctl`` (about a second each) otherwise.
    """

    _dir_prefix = "bandstand-rabbitmq-"

    def __init__(self) -> None:
        super().__init__()
        self.port, self.dist_port, self.epmd_port = free_ports(3)
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
        return f"amqp://guest:guest@{LOOPBACK}:{self.port}/"

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
        result = run_command(
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
        result = run_command(
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
        return child_environment(
            ("RABBITMQ_", "ERL_"),
            {
                "HOME": str(workdir / "home"),
                "LANG": "C.UTF-8",
                "LC_ALL": "C.UTF-8",
                "RABBITMQ_NODENAME": self.node_name,
                "RABBITMQ_NODE_IP_ADDRESS": LOOPBACK,
                "RABBITMQ_NODE_PORT": str(self.port),
                "RABBITMQ_DIST_PORT": str(self.dist_port),
                "RABBITMQ_MNESIA_BASE": str(workdir / "mnesia"),
                "RABBITMQ_LOG_BASE": str(workdir / "log"),
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(workdir / "enabled_plugins"),
                "RABBITMQ_CONFIG_FILE": str(workdir / "rabbitmq.conf"),
                "RABBITMQ_ADVANCED_CONFIG_FILE": str(workdir / "advanced.config"),
                "RABBITMQ_CONF_ENV_FILE": str(workdir / "rabbitmq-env.conf"),
                "ERL_EPMD_ADDRESS": LOOPBACK,
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
        give_to(workdir, self._account)

    def _start(self) -> None:
        bin_dir = self._bin_dir_path()
        epmd = _find_erlang_tool("epmd")
        if epmd is None:
            raise EngineUnavailable("Erlang's epmd was not found (it ships with Erlang)")
        self._erl_call = _find_erlang_tool("erl_call")
        self._account = service_account("rabbitmq")
        workdir = self._ensure_workdir(self._account)
        self._prepare(workdir)
        env = self._env()
        deadline = time.monotonic() + self._start_timeout

        self._epmd = spawn(
            [str(epmd), "-port", str(self.epmd_port), "-address", LOOPBACK],
            account=self._account,
            env=env,
            cwd=workdir,
            log_path=workdir / "epmd.log",
            death_signal=signal.SIGTERM,
        )
        wait_until(
            lambda: port_open(self.epmd_port),
            process=self._epmd,
            what=f"epmd on port {self.epmd_port}",
            timeout=20,
            logs=self._logs,
        )
        self._process = spawn(
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
        wait_until(
            lambda: port_open(self.port),
            process=process,
            what=what,
            timeout=max(1.0, deadline - time.monotonic()),
            logs=self._logs,
        )
        if self._erl_call is not None:
            wait_until(
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
            stop_process(self._process, signal.SIGTERM, timeout=60)
            self._process = None
        if self._epmd is not None:
            stop_process(self._epmd, signal.SIGTERM, timeout=10)
            self._epmd = None
        self._app_stopped = False


# --------------------------------------------------------------------------- Redis
