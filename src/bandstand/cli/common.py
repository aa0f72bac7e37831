"""Options and helpers of the platform's own commands; services are reached through the registry."""

from __future__ import annotations

from typing import Annotated

import typer

from bandstand import registry
from bandstand.platform.commands import migrate_database
from bandstand.platform.settings import Settings

HostOption = Annotated[str | None, typer.Option(help="Address to listen on.")]
PortOption = Annotated[int | None, typer.Option(help="Port to listen on.")]
DemoOption = Annotated[
    bool, typer.Option("--demo", help="Load the demo catalogue (songs, albums, concerts...).")
]


def known(service: str) -> registry.ServiceEntry:
    """The service named on the command line, or a usage error listing the known ones."""
    try:
        return registry.service(service)
    except KeyError as exc:
        raise typer.BadParameter(str(exc.args[0]), param_hint="'SERVICE'") from exc


def migrate(settings: Settings, names: list[str]) -> None:
    for name in names:
        migrate_database(settings, name, registry.service(name).migrations)
