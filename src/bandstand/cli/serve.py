"""`bandstand serve SERVICE`: one service alone (distributed mode), or the gateway alone."""

from __future__ import annotations

from typing import Annotated

import typer

from bandstand import registry
from bandstand.cli.common import HostOption, PortOption, known, migrate
from bandstand.platform.commands import DataDirOption, command_settings
from bandstand.platform.observability import configure_logging


def serve(
    service: Annotated[str, typer.Argument(help="A service name, or `gateway`.")],
    host: HostOption = None,
    port: PortOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Run one service alone (distributed mode); `gateway` proxies to the service URLs."""
    # Imported when run: every process builds the CLI, and a worker serves no HTTP.
    from bandstand.cli.server import run_server

    entry = None if service == "gateway" else known(service)
    settings = command_settings(data_dir)
    configure_logging(settings.log_level, json_logs=settings.log_json)
    host = settings.host if host is None else host
    if entry is None:
        port = settings.port if port is None else port
        gateway = registry.distributed_gateway(settings)
        run_server(gateway, host, port, settings, drain_seconds=settings.drain_seconds)
        return
    if entry.has_database:
        migrate(settings, [service])
    if not settings.resolved_jwks_url() and entry.name != registry.JWKS_SERVICE:
        jwks_service = registry.service(registry.JWKS_SERVICE)
        settings.jwks_url = f"http://127.0.0.1:{jwks_service.default_port}/.well-known/jwks.json"
    application = registry.distributed_service_app(entry, settings)
    port = entry.default_port if port is None else port
    run_server(application, host, port, settings, drain_seconds=settings.drain_seconds)
