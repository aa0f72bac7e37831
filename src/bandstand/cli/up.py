"""`bandstand up`: every service behind the gateway in one process, the workers as children."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from bandstand import __version__, registry
from bandstand.cli.common import DemoOption, HostOption, PortOption, migrate
from bandstand.cli.seed import load_demo_data
from bandstand.platform.commands import DataDirOption, command_settings, console
from bandstand.platform.observability import configure_logging
from bandstand.platform.settings import Settings

# Imported by `up` when it runs: every process builds the CLI, and a worker serves no HTTP.
if TYPE_CHECKING:
    from bandstand.platform.supervisor import Supervisor

WORKER_STOP_SECONDS = 40


def _worker_supervisor(settings: Settings) -> Supervisor:
    """Every registered worker as a supervised child process (`bandstand worker NAME`)."""
    from bandstand.platform.supervisor import Supervisor

    data_dir = str(settings.data_dir.resolve())
    commands = {
        name: [sys.executable, "-m", "bandstand.cli", "worker", name, "--data-dir", data_dir]
        for name in registry.worker_names()
    }
    return Supervisor(commands, stop_timeout=WORKER_STOP_SECONDS)


def up(
    host: HostOption = None,
    port: PortOption = None,
    data_dir: DataDirOption = None,
    demo: DemoOption = False,
) -> None:
    """Start everything in one process: the gateway with every service mounted in it."""
    from bandstand.cli.server import run_server
    from bandstand.platform.runtime import Runtime

    settings = command_settings(data_dir)
    configure_logging(settings.log_level, json_logs=settings.log_json)
    migrate(settings, registry.with_database())
    if demo:
        load_demo_data(settings)
    runtime = Runtime(settings)
    workers = _worker_supervisor(settings)
    gateway = registry.embedded_gateway(runtime, workers)
    host = settings.host if host is None else host
    port = settings.port if port is None else port
    console.print(
        f"[bold]Bandstand {__version__}[/] on http://{host}:{port} "
        f"(services: {', '.join(registry.names())}; workers: {', '.join(registry.worker_names())};"
        f" data in {settings.data_dir.resolve()})"
    )
    workers.start()
    try:
        run_server(gateway, host, port, settings)
    finally:
        workers.stop()
