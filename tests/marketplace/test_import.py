"""Bulk import: the HTTP endpoint and the command line, bad rows, re-imports, newer versions."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from typer.testing import CliRunner

from bandstand.cli import app as cli
from bandstand.marketplace.imports import importer
from bandstand.marketplace.repository import CONTRACT_FIELDS
from bandstand.marketplace.schemas import InstrumentCreate
from bandstand.platform.settings import Settings
from tests.marketplace.conftest import ADMIN_ID, Marketplace

HEADER = "name,price,link,image,location,category,expiration,publish,website\n"
GOOD = [
    "Guitarra Clásica Alhambra 4P,450.00,https://s.example/1,,Málaga,Guitarras,,2026-11-02,s.example",
    'Piano "Yamaha" U1,"2.500,00",https://s.example/2,,Madrid,Pianos,2099-01-01,,s.example',
    "Ukelele Kala,€ 45,https://s.example/3,,,Ukeleles,,,",
]
BAD = [
    ",10,https://s.example/4,,,,,,s.example",  # line 4: no name
    "Violín,cheap,https://s.example/5,,,,,,s.example",  # line 5: price
    "Violín,10,,,,,,,s.example",  # line 6: no link
    "Viola,10,https://s.example/6,,,,31/12/2026,,s.example",  # line 7: expiration
    "Cello,10,https://s.example/7,,,,,,s.example,extra",  # line 8: too many cells
    f"{'x' * 501},10,https://s.example/8,,,,,,s.example",  # line 9: name too long
]
CSV = HEADER + "\n".join([GOOD[0], GOOD[1], *BAD, GOOD[2]]) + "\n"
EXPECTED_PROBLEMS = [
    {"line": 4, "field": "name"},
    {"line": 5, "field": "price"},
    {"line": 6, "field": "link"},
    {"line": 7, "field": "expiration"},
    {"line": 8, "field": None},
    {"line": 9, "field": "name"},
]


def _problems(summary: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"line": p["line"], "field": p["field"]} for p in summary["problems"]]


async def _import(
    client: httpx.AsyncClient, marketplace: Marketplace, body: str, content_type: str = "text/csv"
) -> httpx.Response:
    headers = {**marketplace.admin, "content-type": content_type}
    return await client.post("/api/v1/instruments/import", content=body.encode(), headers=headers)


async def test_bad_rows_are_reported_by_line_and_field_and_the_rest_imported(
    marketplace: Marketplace, client: httpx.AsyncClient
) -> None:
    response = await _import(client, marketplace, CSV)

    assert response.status_code == 200, response.text
    summary = response.json()
    assert (summary["inserted"], summary["updated"], summary["rejected"]) == (3, 0, 6)
    assert _problems(summary) == EXPECTED_PROBLEMS
    stored = {row["link"]: row for row in await marketplace.snapshot()}
    assert sorted(stored) == ["https://s.example/1", "https://s.example/2", "https://s.example/3"]
    assert str(stored["https://s.example/2"]["price"]) == "2500.00"
    assert stored["https://s.example/2"]["name"] == 'Piano "Yamaha" U1'
    assert stored["https://s.example/3"]["website"] == "s.example"  # from the link
    assert stored["https://s.example/3"]["location"] is None
    found = await client.get("/api/v1/instruments?search=guitarra clasica")
    assert found.json()["count"] == 1
    (event,) = await marketplace.outbox()
    assert event["type"] == "marketplace.instruments.imported"
    payload = dict(event["payload"])
    # When the import began, before its first write: the search index reads again from there.
    assert datetime.fromisoformat(payload.pop("started_at")) <= datetime.now(UTC)
    assert payload == {"inserted": 3, "updated": 0, "rejected": 6, "actor_id": ADMIN_ID}


async def test_reimport_changes_nothing_and_a_newer_file_updates_changed_rows(
    marketplace: Marketplace, client: httpx.AsyncClient
) -> None:
    await _import(client, marketplace, CSV)
    before = await marketplace.snapshot()

    again = (await _import(client, marketplace, CSV)).json()
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 3)
    assert await marketplace.snapshot() == before

    newer = CSV.replace("450.00", "399.00").replace("Ukelele Kala", "Ukelele Kala KA-15S")
    newer += "Bajo Fender Jazz Bass,700,https://s.example/9,,,Bajos,,,\n"
    summary = (await _import(client, marketplace, newer)).json()
    assert (summary["inserted"], summary["updated"], summary["unchanged"]) == (1, 2, 1)
    after = {row["link"]: row for row in await marketplace.snapshot()}
    old = {row["link"]: row for row in before}
    assert str(after["https://s.example/1"]["price"]) == "399.00"
    assert after["https://s.example/2"] == old["https://s.example/2"]
    assert after["https://s.example/3"]["updated_at"] > old["https://s.example/3"]["updated_at"]
    assert after["https://s.example/3"]["created_at"] == old["https://s.example/3"]["created_at"]
    assert (await client.get("/api/v1/instruments?search=ka 15s")).json()["count"] == 1


async def test_json_lines_and_a_repeated_link(
    marketplace: Marketplace, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tidy the statistics and the search index after this small import as after a large one.
    monkeypatch.setattr(importer, "TIDY_AFTER_WRITES", 1)
    lines = [
        json.dumps(
            {"name": "Trompeta Yamaha", "price": 300, "link": "https://j.example/1", "website": "j"}
        ),
        "not json",
        json.dumps(["a", "list"]),
        "",
        json.dumps(
            {
                "name": "Trompeta Yamaha YTR",
                "price": 280.5,
                "link": "https://j.example/1",
                "website": "j",
            }
        ),
        json.dumps({"name": "Saxo", "price": True, "link": "https://j.example/2", "website": "j"}),
    ]
    response = await _import(client, marketplace, "\n".join(lines), "application/x-ndjson")
    summary = response.json()
    assert (summary["inserted"], summary["rejected"], summary["unchanged"]) == (1, 3, 1)
    assert _problems(summary) == [
        {"line": 2, "field": None},
        {"line": 3, "field": None},
        {"line": 6, "field": "price"},
    ]
    (row,) = await marketplace.snapshot()
    assert row["name"] == "Trompeta Yamaha YTR"
    assert (await client.get("/api/v1/instruments?search=trompe ytr")).json()["count"] == 1
    assert str(row["price"]) == "280.50"


async def test_the_endpoint_needs_an_admin_a_format_and_a_small_body(
    marketplace: Marketplace, client: httpx.AsyncClient
) -> None:
    url = "/api/v1/instruments/import"
    assert (await client.post(url, content=CSV)).status_code == 401
    assert (await client.post(url, content=CSV, headers=marketplace.alice)).status_code == 403
    unknown = await client.post(url, content=CSV, headers=marketplace.admin)
    assert unknown.status_code == 400
    assert "format" in unknown.json()["detail"]
    by_query = await client.post(f"{url}?format=csv", content=CSV, headers=marketplace.admin)
    assert by_query.status_code == 200
    no_header = await _import(client, marketplace, "just,some,cells\n1,2,3\n")
    assert no_header.status_code == 400
    huge = await _import(client, marketplace, HEADER + GOOD[0] * 30_000)
    assert huge.status_code == 413
    assert await marketplace.count() == 3


def test_the_command_streams_a_file_and_reports_bad_rows(
    tmp_path: Path, marketplace_settings: Settings
) -> None:
    path = tmp_path / "listings.csv"
    path.write_text(CSV, encoding="utf-8")
    env = {"BANDSTAND_DATABASES__MARKETPLACE": marketplace_settings.database_url("marketplace")}
    runner = CliRunner()

    first = runner.invoke(
        cli,
        ["import", "instruments", str(path), "--data-dir", str(tmp_path), "--batch-size", "2"],
        env=env,
    )
    assert first.exit_code == 0, first.output
    assert "line 5: price:" in first.output
    assert "line 8: " in first.output
    assert "inserted 3, updated 0, unchanged 0, rejected 6" in first.output
    again = runner.invoke(
        cli, ["import", "instruments", str(path), "--data-dir", str(tmp_path)], env=env
    )
    assert "inserted 0, updated 0, unchanged 3, rejected 6" in again.output

    missing = runner.invoke(
        cli,
        ["import", "instruments", str(tmp_path / "nope.csv"), "--data-dir", str(tmp_path)],
        env=env,
    )
    assert missing.exit_code == 1
    binary = tmp_path / "listings.jsonl"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    unreadable = tmp_path / "empty.csv"
    unreadable.write_text("")
    assert (
        runner.invoke(
            cli, ["import", "instruments", str(unreadable), "--data-dir", str(tmp_path)], env=env
        ).exit_code
        == 1
    )
    weird = runner.invoke(
        cli, ["import", "instruments", str(binary), "--data-dir", str(tmp_path)], env=env
    )
    assert weird.exit_code == 0  # a readable file whose one line is refused
    assert "rejected 1" in weird.output
    assert (
        runner.invoke(
            cli, ["import", "instruments", str(path), "--format", "xml"], env=env
        ).exit_code
        == 2
    )


def test_the_generator_writes_importable_listings(
    tmp_path: Path, marketplace_settings: Settings
) -> None:
    script = Path(__file__).parents[2] / "bench" / "gen_instruments.py"
    out = tmp_path / "gen.jsonl"
    subprocess.run(
        [sys.executable, str(script), "300", "--format", "jsonl", "--output", str(out)], check=True
    )
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 300
    assert len({json.loads(line)["link"] for line in lines}) == 300
    env = {"BANDSTAND_DATABASES__MARKETPLACE": marketplace_settings.database_url("marketplace")}
    result = CliRunner().invoke(
        cli, ["import", "instruments", str(out), "--data-dir", str(tmp_path)], env=env
    )
    assert "inserted 300, updated 0, unchanged 0, rejected 0" in result.output, result.output


CELLS = st.one_of(
    st.none(),
    st.text(max_size=8),
    st.sampled_from(
        [
            *(" 12,50 ", "€ 3", "1.234,5", "-1", "1e3", "0.001", "nan", "2026-01-31", "2026-1-31"),
            *("x" * 201, "y" * 501, "z" * 1001, " a\x00", "\x1f a ", "\u2003b", "https://h.e/p"),
        ]
    ),
    st.integers(-5, 5),
)


VALID = {
    "name": "Piano Yamaha U1",
    "price": "2.500,00",
    "link": "https://s.example/2",
    "image": None,
    "location": " Madrid ",
    "category": "Pianos",
    "expiration": "2099-01-01",
    "publish": None,
    "website": "s.example",
}


@settings(max_examples=300, deadline=None)
@given(changes=st.dictionaries(st.sampled_from(CONTRACT_FIELDS), CELLS, max_size=3))
def test_a_row_is_read_as_the_model_reads_it(changes: dict[str, Any]) -> None:
    # The import checks plain rows without the model: the same listing, or a refusal.
    values = {**VALID, **changes}
    known = dict(values)
    if known["website"] is None and isinstance(known["link"], str):
        known["website"] = importer.urlsplit(known["link"].strip()).hostname or ""
    try:
        expected: dict[str, Any] | None = InstrumentCreate.model_validate(known).model_dump()
    except ValidationError:
        expected = None
    try:
        found: dict[str, Any] | None = importer.listing_of(values)
    except ValidationError:
        found = None
    assert found == expected
