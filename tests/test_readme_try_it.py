"""The README's "Try it" finds what it says: the demo is seeded into fresh SQLite databases as
`bandstand seed --demo` does, and every read of the section is sent to the embedded gateway."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bandstand import registry
from bandstand.cli.seed import load_demo_data
from bandstand.platform.migrations import upgrade_blocking
from bandstand.platform.runtime import Runtime
from bandstand.platform.settings import Settings
from tests.support.client import api_client

ROOT = Path(__file__).parents[1]
# A GET of the section: `curl -s URL` or `curl -s 'URL'`, with no method of its own.
_READ = re.compile(r"^curl -s '?localhost:8080(/[^'\s]*)'?", re.MULTILINE)


def try_it_reads() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Try it", 1)[1].split("\n## ", 1)[0]
    return _READ.findall(section)


def _results(body: Any) -> list[Any]:
    """The items of a list answer, whatever its shape (a page, a bare list, `{"songs": [...]}`)."""
    if isinstance(body, list):
        return body
    assert isinstance(body, dict), body
    for key in ("results", "songs"):
        if isinstance(body.get(key), list):
            return list(body[key])
    raise AssertionError(f"not a list answer: {body}")


def test_the_section_has_the_reads_this_test_checks() -> None:
    reads = try_it_reads()
    assert "/health/" in reads
    assert any(read.startswith("/api/v1/songs?search=corazon") for read in reads)
    assert any(read.startswith("/api/v1/instruments?") for read in reads)
    assert any(read.startswith("/api/v1/movies?") for read in reads)


@pytest.fixture
def demo_settings(make_settings: Callable[..., Settings]) -> Settings:
    settings = make_settings()
    for name in registry.with_database():
        upgrade_blocking(settings.database_url(name), name, registry.service(name).migrations)
    load_demo_data(settings)
    return settings


@pytest.fixture
async def gateway(demo_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = registry.embedded_gateway(Runtime(demo_settings))
    async with api_client(app, timeout=30) as client:
        yield client


async def test_every_read_of_try_it_finds_the_demo(gateway: httpx.AsyncClient) -> None:
    reads = try_it_reads()
    assert len(reads) >= 7
    for read in reads:
        response = await gateway.get(read)
        assert response.status_code == 200, (read, response.text)
        if read.startswith("/health"):
            assert response.json()["status"] == "healthy"
            continue
        assert _results(response.json()), f"{read} found nothing in the demo"


async def test_what_the_examples_find(gateway: httpx.AsyncClient) -> None:
    songs = (await gateway.get("/api/v1/songs", params={"search": "corazon"})).json()
    assert {song["title"] for song in songs["results"]} == {"Corazón de Tiza", "Corazón Despacio"}
    cheap = await gateway.get(
        "/api/v1/instruments", params={"search": "yamaha", "max_price": "500", "ordering": "price"}
    )
    listings = cheap.json()["results"]
    prices = [float(item["price"]) for item in listings]
    assert prices == sorted(prices)
    assert all(price <= 500 for price in prices)
    assert all("yamaha" in item["name"].lower() for item in listings)
    movies = (await gateway.get("/api/v1/movies", params={"genre": "music"})).json()
    assert all("Music" in movie["genres"] for movie in movies["results"])


async def test_the_docs_page_is_there(gateway: httpx.AsyncClient) -> None:
    page = await gateway.get("/docs")
    assert page.status_code == 200
    assert "/docs/assets/swagger-ui-bundle.js" in page.text
