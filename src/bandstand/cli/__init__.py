"""The `bandstand` command: run, migrate and administer the platform.

The platform's own commands are the modules of this package; each service's commands come from
its registry entry (`ServiceEntry.commands`), so this package names no service."""

from __future__ import annotations

import typer

from bandstand import __version__, registry
from bandstand.cli.migrate import migrate
from bandstand.cli.openapi import openapi
from bandstand.cli.seed import seed
from bandstand.cli.serve import serve
from bandstand.cli.up import up
from bandstand.cli.worker import worker

__all__ = ["app", "create_cli", "main"]


def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def _mount(app: typer.Typer, command: registry.Command) -> None:
    """Add a command (a function, under its name) or a group of them (a Typer, under its name)."""
    if isinstance(command, typer.Typer):
        app.add_typer(command)
    else:
        app.command()(command)


def _command_name(command: registry.Command) -> str:
    if isinstance(command, typer.Typer):
        assert command.info.name, "a service's group of commands needs a name"
        return str(command.info.name)
    return command.__name__.replace("_", "-")


def create_cli() -> typer.Typer:
    app = typer.Typer(
        help="Bandstand: one backend platform for a music & media business.",
        no_args_is_help=True,
        add_completion=False,
    )
    platform_commands = (seed, up, serve, worker, migrate, openapi)
    service_commands = registry.commands()
    names = [_command_name(command) for command in (*platform_commands, *service_commands)]
    clashes = sorted({name for name in names if names.count(name) > 1})
    if clashes:
        raise RuntimeError(f"more than one command is named {', '.join(clashes)}")
    for command in (*platform_commands, *service_commands, version):
        _mount(app, command)
    return app


app = create_cli()


def main() -> None:
    app()
