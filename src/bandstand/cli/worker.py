"""`bandstand worker NAME`: one registered worker until SIGTERM or Ctrl-C."""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Annotated

import typer
import uvloop
from sqlalchemy.exc import SQLAlchemyError

from bandstand import registry
from bandstand.cli.collector import freeze_startup_objects
from bandstand.platform.commands import DataDirOption, command_settings, console
from bandstand.platform.migrations import upgrade_blocking
from bandstand.platform.observability import configure_logging
from bandstand.platform.settings import Settings


async def _run_worker(main: registry.WorkerMain, settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await main(settings, stop)


def worker(
    name: Annotated[str, typer.Argument(help="A worker name, e.g. `billing`.")],
    data_dir: DataDirOption = None,
) -> None:
    """Run one worker until SIGTERM or Ctrl-C, then finish the messages in hand and exit."""
    try:
        entry, main = registry.worker(name)
    except KeyError as exc:
        raise typer.BadParameter(str(exc.args[0]), param_hint="'NAME'") from exc
    settings = command_settings(data_dir)
    configure_logging(settings.log_level, json_logs=settings.log_json)
    _migrate_when_reachable(settings, entry)
    # The event loop uvicorn runs the services on, for the same reason: less CPU per message.
    freeze_startup_objects()
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(_run_worker(main, settings))


def _migrate_when_reachable(settings: Settings, entry: registry.ServiceEntry) -> None:
    """Migrate the worker's database, waiting with back-off while it cannot be reached (a worker
    that started before its database must not process messages against a missing schema)."""
    delay = 0.5
    while True:
        try:
            upgrade_blocking(settings.database_url(entry.name), entry.name, entry.migrations)
        except (SQLAlchemyError, OSError) as exc:
            console.print(
                f"[yellow]{entry.name} database not ready ({exc}); retrying in {delay:g} s"
            )
            time.sleep(delay)
            delay = min(delay * 2, 10.0)
            continue
        console.print(f"[green]✓[/] {entry.name} migrated")
        return
