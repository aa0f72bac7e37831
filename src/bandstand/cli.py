"""The `bandstand` command: run, migrate and administer the platform."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import signal
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
import uvicorn
import uvloop
from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress
from sqlalchemy.exc import SQLAlchemyError

from bandstand import __version__, registry
from bandstand.platform.database import Database
from bandstand.platform.errors import BandstandError
from bandstand.platform.migrations import upgrade_blocking
from bandstand.platform.observability import configure_logging
from bandstand.platform.runtime import Runtime
from bandstand.platform.settings import Settings
from bandstand.platform.supervisor import Supervisor

app = typer.Typer(
    help="Bandstand: one backend platform for a music & media business.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)

HostOption = Annotated[str | None, typer.Option(help="Address to listen on.")]
PortOption = Annotated[int | None, typer.Option(help="Port to listen on.")]
DataDirOption = Annotated[
    Path | None, typer.Option(help="Where SQLite files, keys and the embedded broker live.")
]


# Longer than the gateway keeps pooled connections idle (30 s), so the service is never the
# side that closes a connection the gateway is about to reuse.
SERVICE_KEEP_ALIVE_SECONDS = 75


def _settings(data_dir: Path | None = None) -> Settings:
    settings = Settings() if data_dir is None else Settings(data_dir=data_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings


def _known(service: str) -> registry.ServiceEntry:
    try:
        return registry.service(service)
    except KeyError as exc:
        raise typer.BadParameter(str(exc.args[0]), param_hint="'SERVICE'") from exc


def _migrate(settings: Settings, names: list[str]) -> None:
    for name in names:
        entry = registry.service(name)
        try:
            upgrade_blocking(settings.database_url(name), name, entry.migrations)
        except (SQLAlchemyError, OSError) as exc:
            console.print(f"[red]Migrating {name} failed:[/] {exc}")
            raise typer.Exit(1) from exc
        console.print(f"[green]✓[/] {name} migrated")


def _ignore_signal(_signum: int, _frame: FrameType | None) -> None:
    return None


def _freeze_startup_objects() -> None:
    """Leave what start-up built (modules, routes, models, settings) out of the collector's
    full passes: a request makes garbage, and each full pass otherwise walks all of it again,
    a pause of tens of milliseconds in a busy service."""
    gc.collect()
    gc.freeze()


def _run_server(app: object, host: str, port: int, settings: Settings) -> None:
    """Serve until SIGINT or SIGTERM, then shut down gracefully and return (status 0)."""
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=host,
        port=port,
        lifespan="on",
        access_log=False,
        log_config=None,
        log_level=settings.log_level.lower(),
        timeout_keep_alive=SERVICE_KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=10,
        # Forwarded headers are read by the app (`platform.clients`), from
        # BANDSTAND_TRUSTED_PROXIES only and checking each hop is an address; uvicorn's own
        # reading (loopback trusted, any hop believed) would rewrite the client before it.
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    _freeze_startup_objects()
    # After its graceful shutdown uvicorn raises the signal that stopped it again, for the
    # handler that was installed before it ran: with Python's defaults that turns a clean stop
    # into a KeyboardInterrupt (SIGINT) or a death by signal (SIGTERM).
    stop_signals = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, _ignore_signal) for sig in stop_signals}
    try:
        server.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if not server.started:
        console.print(f"[red]Could not start on {host}:{port}[/] (see the log above)")
        raise typer.Exit(1)


DemoOption = Annotated[
    bool, typer.Option("--demo", help="Load the demo catalogue (songs, albums, concerts...).")
]


async def _seed_demo(settings: Settings) -> int:
    created = 0
    columns = (SpinnerColumn(), TextColumn("{task.description:<10}"), BarColumn())
    with RichProgress(*columns, TextColumn("{task.completed} records"), console=console) as bar:
        for entry in registry.with_demo_data():
            assert entry.seed_demo is not None
            task = bar.add_task(entry.name, total=None)
            database = Database(settings.database_url(entry.name))
            try:
                async with database.session() as session, session.begin():
                    created += await entry.seed_demo(session, partial(bar.advance, task))
            finally:
                await database.dispose()
            bar.update(task, total=bar.tasks[task].completed)
    return created


def _seed(settings: Settings) -> None:
    try:
        created = asyncio.run(_seed_demo(settings))
    except (SQLAlchemyError, OSError) as exc:
        console.print(f"[red]Seeding failed:[/] {exc}")
        raise typer.Exit(1) from exc
    if created:
        console.print(f"[green]✓[/] demo data loaded: {created} rows created")
    else:
        console.print("[green]✓[/] demo data already present: nothing to do")


@app.command()
def seed(demo: DemoOption = False, data_dir: DataDirOption = None) -> None:
    """Load data into the databases; `--demo` loads the demo catalogue (safe to repeat)."""
    if not demo:
        raise typer.BadParameter("say what to seed: --demo", param_hint="'--demo'")
    settings = _settings(data_dir)
    _migrate(settings, [entry.name for entry in registry.with_demo_data()])
    _seed(settings)


WORKER_STOP_SECONDS = 40


def _worker_supervisor(settings: Settings) -> Supervisor:
    """Every registered worker as a supervised child process (`bandstand worker NAME`)."""
    data_dir = str(settings.data_dir.resolve())
    commands = {
        name: [sys.executable, "-m", "bandstand.cli", "worker", name, "--data-dir", data_dir]
        for name in registry.worker_names()
    }
    return Supervisor(commands, stop_timeout=WORKER_STOP_SECONDS)


@app.command()
def up(
    host: HostOption = None,
    port: PortOption = None,
    data_dir: DataDirOption = None,
    demo: DemoOption = False,
) -> None:
    """Start everything in one process: the gateway with every service mounted in it."""
    settings = _settings(data_dir)
    configure_logging(settings.log_level, json_logs=settings.log_json)
    _migrate(settings, registry.names())
    if demo:
        _seed(settings)
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
        _run_server(gateway, host, port, settings)
    finally:
        workers.stop()


@app.command()
def serve(
    service: Annotated[str, typer.Argument(help="A service name, or `gateway`.")],
    host: HostOption = None,
    port: PortOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Run one service alone (distributed mode); `gateway` proxies to the service URLs."""
    entry = None if service == "gateway" else _known(service)
    settings = _settings(data_dir)
    configure_logging(settings.log_level, json_logs=settings.log_json)
    host = settings.host if host is None else host
    if entry is None:
        port = settings.port if port is None else port
        _run_server(registry.distributed_gateway(settings), host, port, settings)
        return
    _migrate(settings, [service])
    if not settings.resolved_jwks_url() and service != "identity":
        identity = registry.service("identity")
        settings.jwks_url = f"http://127.0.0.1:{identity.default_port}/.well-known/jwks.json"
    application = entry.create_app(registry.distributed_runtime(settings))
    _run_server(application, host, entry.default_port if port is None else port, settings)


async def _run_worker(main: registry.WorkerMain, settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await main(settings, stop)


@app.command()
def worker(
    name: Annotated[str, typer.Argument(help="A worker name, e.g. `billing`.")],
    data_dir: DataDirOption = None,
) -> None:
    """Run one worker until SIGTERM or Ctrl-C, then finish the messages in hand and exit."""
    try:
        entry, main = registry.worker(name)
    except KeyError as exc:
        raise typer.BadParameter(str(exc.args[0]), param_hint="'NAME'") from exc
    settings = _settings(data_dir)
    configure_logging(settings.log_level, json_logs=settings.log_json)
    _migrate_when_reachable(settings, entry)
    # The event loop uvicorn runs the services on, for the same reason: less CPU per message.
    _freeze_startup_objects()
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


@app.command()
def migrate(
    service: Annotated[str | None, typer.Argument(help="One service; all when omitted.")] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Apply database migrations."""
    names = [_known(service).name] if service else registry.names()
    settings = _settings(data_dir)
    _migrate(settings, names)


@app.command()
def openapi(
    service: Annotated[str | None, typer.Argument(help="One service; merged when omitted.")] = None,
) -> None:
    """Print the OpenAPI schema of one service or of the whole gateway."""
    from bandstand.gateway.docs import merge_documents

    entries = [_known(service)] if service else list(registry.SERVICES)
    # Building an app may create files (identity's signing key): keep them out of the data dir.
    with tempfile.TemporaryDirectory(prefix="bandstand-openapi-") as scratch:
        runtime = Runtime(Settings(data_dir=Path(scratch)))
        documents = {entry.name: entry.create_app(runtime).openapi() for entry in entries}
    if service:
        document = documents[service]
    else:
        document = merge_documents("Bandstand", __version__, documents, registry.route_table())
    typer.echo(json.dumps(document, indent=2))


@app.command()
def createsuperuser(
    username: Annotated[str | None, typer.Option(help="Login name.")] = None,
    email: Annotated[str | None, typer.Option(help="Email address.")] = None,
    password: Annotated[
        str | None,
        typer.Option(help="Password (or BANDSTAND_SUPERUSER_PASSWORD).", show_default=False),
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Create an admin account, asking for what the options do not give."""
    from bandstand.identity.commands import create_superuser

    settings = _settings(data_dir)
    _migrate(settings, ["identity"])
    password = password or os.environ.get("BANDSTAND_SUPERUSER_PASSWORD")
    username = username or typer.prompt("Username")
    email = email or typer.prompt("Email")
    if not password:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = asyncio.run(create_superuser(settings, username, email, password))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        console.print(f"[red]Invalid:[/] {problems}")
        raise typer.Exit(2) from exc
    except BandstandError as exc:
        console.print(f"[red]Refused:[/] {exc.detail}")
        raise typer.Exit(1) from exc
    console.print(f"[green]✓[/] admin {user.username} (id {user.id}) created")


import_app = typer.Typer(help="Import data from files.", no_args_is_help=True)
app.add_typer(import_app, name="import")


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
    from bandstand.marketplace.imports import ImportFormat, UnreadableFile, format_of
    from bandstand.marketplace.imports import import_instruments as run_import

    try:
        fmt = ImportFormat(format.lower()) if format else format_of(file.name)
    except (ValueError, UnreadableFile) as exc:
        raise typer.BadParameter(str(exc), param_hint="'--format'") from exc
    settings = _settings(data_dir)
    _migrate(settings, ["marketplace"])
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


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
