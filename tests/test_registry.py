"""The registry names everything the platform runs: each service's event consumers and its
commands, which the CLI mounts without naming any service itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
import typer.main

from bandstand import cli, registry
from bandstand.platform.runtime import Runtime
from bandstand.platform.settings import Settings

ROOT = Path(__file__).parents[1]


def test_each_service_consumes_the_queues_its_entry_names(tmp_path: Path) -> None:
    runtime = Runtime(Settings(data_dir=tmp_path))
    for entry in registry.SERVICES:
        app = entry.create_app(runtime)
        if not entry.has_database:
            # No database, so no processed-message ledger: such a service consumes nothing.
            assert entry.consumers == (), entry.name
            continue
        assert tuple(app.state.subscriptions.queues) == entry.consumers, entry.name
    assert len(set(registry.consumer_names())) == len(registry.consumer_names())


def _top_level_commands(app: typer.Typer) -> set[str]:
    group = typer.main.get_group(app)
    return set(group.commands)


def test_the_cli_mounts_every_command_of_the_registry() -> None:
    mounted = _top_level_commands(cli.app)
    assert {"up", "serve", "worker", "migrate", "openapi", "seed", "version"} <= mounted
    for command in registry.commands():
        name = command.info.name if isinstance(command, typer.Typer) else command.__name__
        assert name in mounted


def test_two_commands_of_one_name_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def migrate() -> None:
        """Another `migrate`."""

    monkeypatch.setattr(registry, "commands", lambda: [migrate])
    with pytest.raises(RuntimeError, match="migrate"):
        cli.create_cli()


def test_the_readme_lists_every_command() -> None:
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `bandstand ([a-z-]+)", readme, flags=re.MULTILINE))
    assert documented == _top_level_commands(cli.app)
