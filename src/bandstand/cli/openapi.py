"""`bandstand openapi [SERVICE]`: one service's OpenAPI schema, or the gateway's merged one."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from bandstand import registry
from bandstand.cli.common import known
from bandstand.platform.settings import Settings


def openapi(
    service: Annotated[str | None, typer.Argument(help="One service; merged when omitted.")] = None,
) -> None:
    """Print the OpenAPI schema of one service or of the whole gateway."""
    from bandstand.platform.runtime import Runtime

    entries = [known(service)] if service else list(registry.SERVICES)
    # Building an app may create files (identity's signing key): keep them out of the data dir.
    with tempfile.TemporaryDirectory(prefix="bandstand-openapi-") as scratch:
        runtime = Runtime(Settings(data_dir=Path(scratch)))
        documents = {entry.name: entry.create_app(runtime).openapi() for entry in entries}
    document = documents[service] if service else registry.merged_openapi(documents)
    typer.echo(json.dumps(document, indent=2))
