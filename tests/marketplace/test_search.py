"""Search on a fixed corpus, on each engine: accents, case, word order, prefixes, ranking.

The expected results are written out by hand, the same for SQLite (FTS5) and PostgreSQL (GIN
over a tsvector): each test passing on both engines is what proves they agree.
"""

from __future__ import annotations

import httpx
import pytest

from tests.marketplace.conftest import Marketplace

CORPUS = [
    "Guitarra Clásica Alhambra 4P",  # 1
    "guitarra clasica de estudio",  # 2
    "Fender Stratocaster American Standard",  # 3
    "Squier Stratocaster by Fender, sunburst",  # 4
    "Funda para guitarra eléctrica",  # 5
    "Piano digital Yamaha P-45",  # 6
    "Batería electrónica Roland TD-1K",  # 7
    "Violín 4/4 Stentor Student II",  # 8
    "GUITARRA ELÉCTRICA Ibanez GRG170DX",  # 9
    "Amplificador Fender Frontman 10G para guitarra",  # 10
    "Strat style guitar, Mexican neck",  # 11
    "Ukelele soprano Kala",  # 12
]


@pytest.fixture
async def corpus(marketplace: Marketplace) -> dict[int, int]:
    """The corpus stored; its 1-based position → stored id."""
    ids = [
        await marketplace.add(name, link=f"https://c.example/{n}") for n, name in enumerate(CORPUS)
    ]
    return {position: ids[position - 1] for position in range(1, len(CORPUS) + 1)}


async def _found(
    client: httpx.AsyncClient, corpus: dict[int, int], query: str, **extra: str
) -> list[int]:
    response = await client.get(
        "/api/v1/instruments", params={"search": query, "page_size": 100, **extra}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body["results"])
    positions = {stored: position for position, stored in corpus.items()}
    return [positions[item["id"]] for item in body["results"]]


CASES: list[tuple[str, list[int] | None]] = [
    # Accents and case do not matter, on either side.
    ("guitarra clasica", [2, 1]),
    ("GUITARRA CLÁSICA", [2, 1]),
    ("violin", [8]),
    ("bateria electronica", [7]),
    # Every word must match, in any order.
    ("clasica guitarra", [2, 1]),
    ("fender stratocaster", [3, 4]),
    ("stratocaster fender", [3, 4]),
    ("fender piano", []),
    # Partial words match from their start, not from their middle.
    ("strat", [11, 3, 4]),
    ("stratoc", [3, 4]),
    ("caster", []),
    ("guit elec", [5, 9]),
    ("td 1k", [7]),
    # Punctuation separates words; it is never query syntax.
    ('"fender" OR piano*', []),
    ("p-45", [6]),
    ("4/4", [8, 6, 1]),
    ("*", None),
]


async def test_search_behaviour(client: httpx.AsyncClient, corpus: dict[int, int]) -> None:
    # One corpus for every case (storing it is the slow part).
    for query, expected in CASES:
        found = await _found(client, corpus, query)
        if expected is None:  # no words at all: no filter
            assert sorted(found) == sorted(corpus), query
        else:
            assert found == expected, query


async def test_ranking_puts_whole_words_and_short_names_first(
    client: httpx.AsyncClient, corpus: dict[int, int]
) -> None:
    # Among equals the shortest name first (27, 28, 29, 34 and 46 letters)...
    assert await _found(client, corpus, "guitarra") == [2, 1, 5, 9, 10]
    # ...but a whole word beats a word it only starts ("guitar" is a word of 11 alone).
    assert await _found(client, corpus, "guitar") == [11, 2, 1, 5, 9, 10]
    # "4" is a whole word of 8 only; it starts "45" in 6 and "4p" in 1.
    assert await _found(client, corpus, "4") == [8, 6, 1]
    assert await _found(client, corpus, "fender strat") == [3, 4]


async def test_search_combines_with_filters_and_orderings(
    marketplace: Marketplace, client: httpx.AsyncClient
) -> None:
    cheap = await marketplace.add("Guitarra flamenca", price="150", category="Guitarras")
    dear = await marketplace.add("Guitarra flamenca Ramírez", price="2400", category="Guitarras")
    await marketplace.add("Guitarra flamenca de juguete", price="15", category="Juguetes")
    await marketplace.add("Guitarra flamenca caducada", price="90", expiration="2020-01-01")

    response = await client.get(
        "/api/v1/instruments",
        params={"search": "flamenca guitarra", "category": "guitarras", "ordering": "-price"},
    )
    assert [item["id"] for item in response.json()["results"]] == [dear, cheap]
    response = await client.get(
        "/api/v1/instruments", params={"search": "flamenca", "max_price": "100"}
    )
    assert [item["name"] for item in response.json()["results"]] == ["Guitarra flamenca de juguete"]
