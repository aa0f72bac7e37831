"""`bandstand seed --demo`: the demo catalogue of every service that has one."""

from __future__ import annotations

import asyncio
from functools import partial

import typer
from rich.progress import BarColumn, SpinnerColumn, TextColumn
from rich.progress import Progress as RichProgress
from sqlalchemy.exc import SQLAlchemyError

from bandstand import registry
from bandstand.cli.common import DemoOption, migrate
from bandstand.platform.commands import DataDirOption, command_settings, console
from bandstand.platform.settings import Settings
from bandstand.platform.write_generation import followed_database


async def _seed_demo(settings: Settings) -> int:
    created = 0
    columns = (SpinnerColumn(), TextColumn("{task.description:<10}"), BarColumn())
    with RichProgress(*columns, TextColumn("{task.completed} records"), console=console) as bar:
        for entry in registry.with_demo_data():
            seed_demo = entry.seed_demo
            assert seed_demo is not None
            task = bar.add_task(entry.name, total=None)
            async with (
                followed_database(settings, entry.name) as database,
                database.unit_of_work() as session,
            ):
                created += await seed_demo(session, partial(bar.advance, task))
            bar.update(task, total=bar.tasks[task].completed)
    return created


def load_demo_data(settings: Settings) -> None:
    """Seed the (migrated) databases with the demo data, saying how many rows it created."""
    try:
        created = asyncio.run(_seed_demo(settings))
    except (SQLAlchemyError, OSError) as exc:
        console.print(f"[red]Seeding failed:[/] {exc}")
        raise typer.Exit(1) from exc
    if created:
        console.print(f"[green]✓[/] demo data loaded: {created} rows created")
    else:
        console.print("[green]✓[/] demo data already present: nothing to do")


def seed(demo: DemoOption = False, data_dir: DataDirOption = None) -> None:
    """Load data into the databases; `--demo` loads the demo catalogue (safe to repeat)."""
    if not demo:
        raise typer.BadParameter("say what to seed: --demo", param_hint="'--demo'")
    settings = command_settings(data_dir)
    migrate(settings, [entry.name for entry in registry.with_demo_data()])
    load_demo_data(settings)
