"""Searches people type into the marketplace's box, drawn with a fixed seed from the words of
`gen_instruments.CATALOGUE`: one common word (`guitarra`, `yamaha`), a brand and a model, the
kind and the brand, a word cut short (`guit`, `strato`), accents dropped (`violin`, `bateria`),
a condition; some with a category or a price bound. Every query is distinct.
"""

from __future__ import annotations

import random
import unicodedata
import urllib.parse
from typing import Any

import gen_instruments

SEED = 15
COUNT = 1200


def _plain(text: str) -> str:
    """`text` without accents, in lower case (as people type it)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).lower()


def _typed(text: str, rng: random.Random) -> str:
    """Lower case, accents mostly dropped, now and then the last word cut short."""
    typed = _plain(text) if rng.random() < 0.7 else text.lower()
    words = typed.split()
    if words and rng.random() < 0.2 and len(words[-1]) > 4:
        words[-1] = words[-1][: rng.randrange(3, len(words[-1]))]
    return " ".join(words)


def _search(rng: random.Random) -> tuple[str, str]:
    """A search and the category it was drawn from."""
    category = rng.choice(list(gen_instruments.CATALOGUE))
    kinds, brands, _prices = gen_instruments.CATALOGUE[category]
    brand = rng.choice(list(brands))
    model = rng.choice(brands[brand])
    kind = rng.choice(kinds)
    shape = rng.random()
    if shape < 0.25:  # one common word: the kind's first word, or a brand
        text = rng.choice([kind.split()[0], brand])
    elif shape < 0.5:
        text = f"{brand} {model}"
    elif shape < 0.65:
        text = f"{kind} {brand}"
    elif shape < 0.75:
        text = f"{kind.split()[0]} {rng.choice(gen_instruments.CONDITIONS) or 'usada'}"
    elif shape < 0.85:
        text = model
    else:
        text = f"{kind} {brand} {model}"
    return _typed(text, rng), category


def queries(count: int = COUNT, seed: int = SEED) -> list[dict[str, Any]]:
    """`count` distinct queries: a search, some with a category, a min_price or a max_price."""
    rng = random.Random(seed)
    found: dict[tuple[Any, ...], dict[str, Any]] = {}
    while len(found) < count:
        search, category = _search(rng)
        query: dict[str, Any] = {"search": search}
        extra = rng.random()
        if extra < 0.2:
            query["category"] = category
        elif extra < 0.3:
            low, high = gen_instruments.CATALOGUE[category][2]
            bound = rng.randrange(low, high, 10)
            query["max_price" if rng.random() < 0.5 else "min_price"] = bound
        found.setdefault(tuple(sorted(query.items())), query)
    return list(found.values())


def path(query: dict[str, Any]) -> str:
    """The canonical search, default (relevance) order, 50 a page."""
    return "/api/v1/instruments?" + urllib.parse.urlencode({**query, "page_size": 50})


def original_path(query: dict[str, Any]) -> str:
    """The same search as the original system's endpoint takes it (it has no price bounds)."""
    given = {"name": query["search"]}
    if "category" in query:
        given["category"] = query["category"]
    return "/search?" + urllib.parse.urlencode(given)
