"""The registry names everything the platform runs: each service's event consumers and its
commands, which the CLI mounts without naming any service itself."""

from __future__ import annotations

import re
import subprocess
import sys
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


def _modules_after(*steps: str) -> list[set[str]]:
    """The modules a fresh process has imported after each step of `steps`."""
    script = "import sys\n" + "".join(f"{step}\nprint(' '.join(sys.modules))\n" for step in steps)
    lines = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True
    ).stdout.splitlines()
    return [set(line.split()) for line in lines]


def _services_in(modules: set[str]) -> set[str]:
    # A service's command-line module is imported to build the CLI; it imports its service's
    # code only when one of its commands runs.
    loaded = [module for module in modules if not module.endswith(".cli")]
    return {
        name
        for name in registry.names()
        if any(module.startswith(f"bandstand.{name}.") for module in loaded)
    }


def test_a_process_serving_one_service_imports_no_other() -> None:
    """Every replica and worker starts through the CLI: one that imported every service would
    spend a second on code it never runs, at each start, and a worker that imported the HTTP
    server and the gateway would hold their memory for nothing."""
    built, working, serving = _modules_after(
        "import bandstand.cli\nfrom bandstand import registry",
        "registry.worker('billing')",
        "from bandstand.platform.runtime import Runtime\n"
        "from bandstand.platform.settings import Settings\n"
        "registry.service('music').create_app(Runtime(Settings()))",
    )
    assert _services_in(built) == set()
    assert _services_in(working) == {"billing"}
    assert not {"uvicorn", "aiohttp", "bandstand.gateway.app"} & working
    assert _services_in(serving) == {"billing", "music"}


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


def test_no_page_shadows_an_api_route(tmp_path: Path) -> None:
    """The web's URLs and the APIs' (canonical and inherited) never claim the same path."""
    runtime = Runtime(Settings(data_dir=tmp_path))
    documents = {
        entry.name: entry.create_app(runtime).openapi()
        for entry in registry.SERVICES
        if not entry.calls_platform
    }
    api_paths = [path for document in documents.values() for path in document["paths"]]
    table = registry.route_table()
    for entry in registry.SERVICES:
        if not entry.calls_platform:
            continue
        for path in api_paths:
            concrete = re.sub(r"\{[^}]+\}", "1", path)
            assert table.match(concrete) != entry.name, f"{path} would reach the {entry.name} pages"
        for prefix in entry.prefixes:
            assert not any(
                api.rstrip("/") == prefix or api.startswith(prefix + "/") for api in api_paths
            ), prefix
        for exact in entry.exact_paths:
            assert exact not in api_paths, exact
