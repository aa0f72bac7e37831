"""Marketplace's command line: `bandstand import instruments` and `bandstand index instruments`
(mounted by the CLI from the registry)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress
from sqlalchemy.exc import SQLAlchemyError

from bandstand.platform.commands import (
    DataDirOption,
    command_settings,
    console,
    migrate_database,
)

NAME = "marketplace"
MIGRATIONS = Path(__file__).with_name("migrations")

import_app = typer.Typer(name="import", help="Import data from files.", no_args_is_help=True)


@import_app.command("instruments")
def import_instruments(
    file: Annotated[Path, typer.Argument(help="A CSV file with a header row, or JSON Lines.")],
    format: Annotated[
        str | None, typer.Option("--format", help="csv or jsonl (default: from the extension).")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=2000, help="Rows per upsert.")] = 2000,
    data_dir: DataDirOption = None,
) -> None:
    """Import instrument listings; bad rows are reported and skipped, re-imports are no-ops."""
    # Imported when run: the import pipeline is not part of starting the platform.
    from bandstand.marketplace.imports import ImportFormat, UnreadableFile, format_of
    from bandstand.marketplace.imports import import_instruments as run_import

    try:
        fmt = ImportFormat(format.lower()) if format else format_of(file.name)
    except (ValueError, UnreadableFile) as exc:
        raise typer.BadParameter(str(exc), param_hint="'--format'") from exc
    settings = command_settings(data_dir)
    migrate_database(settings, NAME, MIGRATIONS)
    try:
        size = file.stat().st_size
    except OSError as exc:
        console.print(f"[red]Cannot read {file}:[/] {exc.strerror}")
        raise typer.Exit(1) from exc
    columns = (
        TextColumn("importing"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rows]:,} rows"),
        TextColumn("{task.fields[rate]:,.0f} rows/s"),
        TimeRemainingColumn(),
    )
    with RichProgress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("import", total=max(size, 1), rows=0, rate=0.0)
        started = time.monotonic()

        def progress(done: int, rows: int) -> None:
            rate = rows / max(time.monotonic() - started, 1e-6)
            bar.update(task, completed=done, rows=rows, rate=rate)

        try:
            summary = asyncio.run(
                run_import(settings, file, fmt, batch_size=batch_size, progress=progress)
            )
        except (UnreadableFile, OSError) as exc:
            console.print(f"[red]Cannot import {file}:[/] {exc}")
            raise typer.Exit(1) from exc
        except SQLAlchemyError as exc:
            console.print(f"[red]Import failed:[/] {exc}")
            raise typer.Exit(1) from exc
    for problem in summary.problems:
        field = f" {problem.field}:" if problem.field else ""
        console.print(f"[yellow]line {problem.line}:[/]{field} {problem.message}")
    if summary.rejected > len(summary.problems):
        console.print(f"... and {summary.rejected - len(summary.problems)} more rejected rows")
    typer.echo(
        f"inserted {summary.inserted}, updated {summary.updated}, "
        f"unchanged {summary.unchanged}, rejected {summary.rejected}"
    )


index_app = typer.Typer(name="index", help="Rebuild search indexes.", no_args_is_help=True)


@index_app.command("instruments")
def index_instruments(data_dir: DataDirOption = None) -> None:
    """Rebuild the listings' search index from the database (every slot no running process
    holds; a running process keeps its own current)."""
    from bandstand.marketplace.listing_rebuild import rebuild_free_slots

    settings = command_settings(data_dir)
    migrate_database(settings, NAME, MIGRATIONS)
    try:
        rebuilt = asyncio.run(rebuild_free_slots(settings))
    except SQLAlchemyError as exc:
        console.print(f"[red]Rebuilding the index failed:[/] {exc}")
        raise typer.Exit(1) from exc
    typer.echo(f"rebuilt {len(rebuilt)} index slot(s), {sum(rebuilt)} listings each at most")
