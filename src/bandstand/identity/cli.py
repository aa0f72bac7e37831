"""Identity's command line: `bandstand createsuperuser` (mounted by the CLI from the registry)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from bandstand.platform.commands import (
    DataDirOption,
    command_settings,
    console,
    migrate_database,
)
from bandstand.platform.errors import BandstandError

NAME = "identity"
MIGRATIONS = Path(__file__).with_name("migrations")


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
    settings = command_settings(data_dir)
    migrate_database(settings, NAME, MIGRATIONS)
    password = password or os.environ.get("BANDSTAND_SUPERUSER_PASSWORD")
    username = username or typer.prompt("Username")
    email = email or typer.prompt("Email")
    if not password:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    # Imported when run: the CLI is built by every process, most of which never create an admin.
    from bandstand.identity.commands import create_superuser

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
