"""What every `bandstand` command shares: its console, the `--data-dir` option, its settings and
migrating a database before using it. Used by the CLI and by the services' own commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from bandstand.platform.migrations import upgrade_blocking
from bandstand.platform.settings import Settings

console = Console(stderr=True)

DataDirOption = Annotated[
    Path | None, typer.Option(help="Where SQLite files, keys and the embedded broker live.")
]


def command_settings(data_dir: Path | None = None) -> Settings:
    """The settings from the environment, `data_dir` overriding theirs; the directory exists."""
    settings = Settings() if data_dir is None else Settings(data_dir=data_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings


def migrate_database(settings: Settings, name: str, migrations: Path) -> None:
    """Bring the service's database to its latest migration, or exit with status 1 saying why."""
    try:
        upgrade_blocking(settings.database_url(name), name, migrations)
    except (SQLAlchemyError, OSError) as exc:
        console.print(f"[red]Migrating {name} failed:[/] {exc}")
        raise typer.Exit(1) from exc
    console.print(f"[green]✓[/] {name} migrated")
