"""`bandstand migrate [SERVICE]`: apply database migrations."""

from __future__ import annotations

from typing import Annotated

import typer

from bandstand import registry
from bandstand.cli.common import known
from bandstand.cli.common import migrate as migrate_services
from bandstand.platform.commands import DataDirOption, command_settings


def migrate(
    service: Annotated[str | None, typer.Argument(help="One service; all when omitted.")] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Apply database migrations."""
    names = [known(service).name] if service else registry.with_database()
    migrate_services(command_settings(data_dir), names)
