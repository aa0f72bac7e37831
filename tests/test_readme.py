"""The README stays true: every setting is documented and the two commands are the Makefile's."""

from __future__ import annotations

from pathlib import Path

from bandstand.platform.settings import Settings

ROOT = Path(__file__).parents[1]


def test_every_setting_is_in_the_readme_table() -> None:
    readme = (ROOT / "README.md").read_text()
    for name, field in Settings.model_fields.items():
        variable = f"BANDSTAND_{name.upper()}"
        if field.annotation is not None and "dict" in str(field.annotation):
            variable += "__<SERVICE>"
        assert f"`{variable}`" in readme, f"{variable} missing from the README settings table"


def test_the_two_commands_exist_and_ci_calls_the_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    for command in ("make run", "make test"):
        assert command in readme
    for target in ("\nrun:", "\ntest:"):
        assert target in makefile
    assert "make test" in (ROOT / ".ci" / "run").read_text()
