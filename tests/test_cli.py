"""The `bandstand` command, run in-process with typer's runner."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bandstand import __version__
from bandstand.cli import app
from tests.support.servers import free_port

STRONG = "Correct-Horse-9"


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    """No BANDSTAND_* setting leaks in from the environment, and the cwd is a temp dir."""
    for name in [name for name in os.environ if name.startswith("BANDSTAND_")]:
        monkeypatch.delenv(name)
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    return CliRunner()


def _invoke(runner: CliRunner, *args: str, **kwargs: object) -> Result:
    return runner.invoke(app, list(args), **kwargs)  # type: ignore[arg-type]


def _users(data_dir: Path) -> list[tuple[str, str, str, str]]:
    with sqlite3.connect(data_dir / "identity.sqlite3") as connection:
        rows = connection.execute(
            "SELECT username, email, role, password_hash FROM users ORDER BY id"
        ).fetchall()
    return [tuple(row) for row in rows]


def _clean_failure(result: Result) -> None:
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output


def test_version(runner: CliRunner) -> None:
    result = _invoke(runner, "version")
    assert result.exit_code == 0
    assert result.stdout.strip() == __version__


def test_migrate_creates_each_service_database(runner: CliRunner, tmp_path: Path) -> None:
    result = _invoke(runner, "migrate", "--data-dir", str(tmp_path / "data"))
    assert result.exit_code == 0, result.output
    assert "identity migrated" in result.stderr
    with sqlite3.connect(tmp_path / "data" / "identity.sqlite3") as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert {"users", "alembic_version_identity"} <= tables
    # Running it again is harmless.
    again = _invoke(runner, "migrate", "identity", "--data-dir", str(tmp_path / "data"))
    assert again.exit_code == 0


def test_the_data_dir_option_does_not_leak_into_the_environment(
    runner: CliRunner, tmp_path: Path
) -> None:
    assert _invoke(runner, "migrate", "--data-dir", str(tmp_path)).exit_code == 0
    assert "BANDSTAND_DATA_DIR" not in os.environ


def test_migrate_an_unreachable_database(runner: CliRunner, tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/nothing"
    result = _invoke(
        runner,
        "migrate",
        "identity",
        "--data-dir",
        str(tmp_path),
        env={"BANDSTAND_DATABASES__IDENTITY": url},
    )
    _clean_failure(result)
    assert result.exit_code == 1
    assert "Migrating identity failed" in result.stderr


def test_migrate_an_unknown_service(runner: CliRunner, tmp_path: Path) -> None:
    result = _invoke(runner, "migrate", "nope", "--data-dir", str(tmp_path))
    _clean_failure(result)
    assert result.exit_code == 2
    assert "unknown service 'nope'" in result.stderr


def test_openapi_prints_the_merged_document(runner: CliRunner) -> None:
    result = _invoke(runner, "openapi")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["info"]["title"] == "Bandstand"
    assert {"/api/v1/register", "/api/v1/login", "/api/v1/profile", "/auth/login"} <= set(
        document["paths"]
    )
    assert "/health" not in document["paths"]  # the gateway's own, not identity's
    # Printing a schema writes nothing (no data dir, no key file).
    assert list(Path.cwd().iterdir()) == []


def test_openapi_of_one_service(runner: CliRunner) -> None:
    result = _invoke(runner, "openapi", "identity")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["info"]["title"] == "Bandstand identity"
    assert "/health" in document["paths"]


def test_openapi_of_an_unknown_service(runner: CliRunner) -> None:
    result = _invoke(runner, "openapi", "nope")
    _clean_failure(result)
    assert "unknown service" in result.stderr


def test_serve_an_unknown_service_fails_cleanly(runner: CliRunner, tmp_path: Path) -> None:
    result = _invoke(runner, "serve", "nope", "--data-dir", str(tmp_path))
    _clean_failure(result)
    assert result.exit_code == 2
    assert "unknown service 'nope'" in result.stderr
    assert "identity" in result.stderr  # says what is known


def test_createsuperuser_from_options(runner: CliRunner, tmp_path: Path) -> None:
    result = _invoke(
        runner,
        "createsuperuser",
        "--username",
        "root",
        "--email",
        "root@example.com",
        "--password",
        STRONG,
        "--data-dir",
        str(tmp_path),
        input="",
    )
    assert result.exit_code == 0, result.output
    assert "admin root" in result.stderr
    [(username, email, role, password_hash)] = _users(tmp_path)
    assert (username, email, role) == ("root", "root@example.com", "admin")
    assert STRONG not in password_hash


def test_createsuperuser_password_from_the_environment(runner: CliRunner, tmp_path: Path) -> None:
    result = _invoke(
        runner,
        "createsuperuser",
        "--username",
        "ops",
        "--email",
        "ops@example.com",
        "--data-dir",
        str(tmp_path),
        input="",
        env={"BANDSTAND_SUPERUSER_PASSWORD": STRONG},
    )
    assert result.exit_code == 0, result.output
    assert "Password" not in result.output  # nothing was asked
    assert [row[:3] for row in _users(tmp_path)] == [("ops", "ops@example.com", "admin")]


def test_createsuperuser_interactive(runner: CliRunner, tmp_path: Path) -> None:
    result = _invoke(
        runner,
        "createsuperuser",
        "--data-dir",
        str(tmp_path),
        input=f"ada\nada@example.com\n{STRONG}\n{STRONG}\n",
    )
    assert result.exit_code == 0, result.output
    assert "Username" in result.output
    assert "Email" in result.output
    assert STRONG not in result.output  # the password is not echoed
    assert [row[:3] for row in _users(tmp_path)] == [("ada", "ada@example.com", "admin")]


def test_createsuperuser_interactive_asks_again_when_passwords_differ(
    runner: CliRunner, tmp_path: Path
) -> None:
    result = _invoke(
        runner,
        "createsuperuser",
        "--username",
        "bob",
        "--email",
        "bob@example.com",
        "--data-dir",
        str(tmp_path),
        input=f"{STRONG}\nsomething-else\n{STRONG}\n{STRONG}\n",
    )
    assert result.exit_code == 0, result.output
    assert [row[0] for row in _users(tmp_path)] == ["bob"]


@pytest.mark.parametrize(
    ("email", "password", "complaint"),
    [
        ("not-an-email", STRONG, "email"),
        ("weak@example.com", "short", "password"),
    ],
)
def test_createsuperuser_refuses_bad_input(
    runner: CliRunner, tmp_path: Path, email: str, password: str, complaint: str
) -> None:
    result = _invoke(
        runner,
        "createsuperuser",
        "--username",
        "carol",
        "--email",
        email,
        "--password",
        password,
        "--data-dir",
        str(tmp_path),
        input="",
    )
    _clean_failure(result)
    assert "Invalid" in result.stderr
    assert complaint in result.stderr
    assert _users(tmp_path) == []


def test_createsuperuser_refuses_a_taken_username(runner: CliRunner, tmp_path: Path) -> None:
    args = ["--email", "dave@example.com", "--password", STRONG, "--data-dir", str(tmp_path)]
    assert _invoke(runner, "createsuperuser", "--username", "dave", *args).exit_code == 0
    result = _invoke(runner, "createsuperuser", "--username", "dave", *args)
    _clean_failure(result)
    assert "Refused" in result.stderr
    assert len(_users(tmp_path)) == 1


def test_createsuperuser_without_input_stops(runner: CliRunner, tmp_path: Path) -> None:
    result = _invoke(runner, "createsuperuser", "--data-dir", str(tmp_path), input="")
    _clean_failure(result)
    assert _users(tmp_path) == []


def _count(database: Path, table: str) -> int:
    with sqlite3.connect(database) as connection:
        return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608


def test_seed_demo_loads_the_catalogue_once(runner: CliRunner, tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = _invoke(runner, "seed", "--demo", "--data-dir", str(data))
    assert first.exit_code == 0, first.output
    assert "demo data loaded" in first.stderr
    counts = {
        "songs": _count(data / "music.sqlite3", "songs"),
        "albums": _count(data / "music.sqlite3", "albums"),
        "pictures": _count(data / "music.sqlite3", "pictures"),
        "concerts": _count(data / "concerts.sqlite3", "concerts"),
        "movies": _count(data / "inventory.sqlite3", "movies"),
        "instruments": _count(data / "marketplace.sqlite3", "instruments"),
    }
    assert counts["songs"] >= 20
    assert counts["albums"] >= 5
    assert counts["pictures"] >= 10
    assert counts["concerts"] >= 8
    assert counts["movies"] >= 20
    assert counts["instruments"] >= 300
    again = _invoke(runner, "seed", "--demo", "--data-dir", str(data))
    assert again.exit_code == 0, again.output
    assert "nothing to do" in again.stderr
    assert _count(data / "music.sqlite3", "songs") == counts["songs"]
    assert _count(data / "concerts.sqlite3", "concerts") == counts["concerts"]
    assert _count(data / "inventory.sqlite3", "movies") == counts["movies"]
    assert _count(data / "marketplace.sqlite3", "instruments") == counts["instruments"]


def test_seed_says_what_to_seed(runner: CliRunner, tmp_path: Path) -> None:
    result = _invoke(runner, "seed", "--data-dir", str(tmp_path))
    assert result.exit_code == 2
    assert "--demo" in result.output
