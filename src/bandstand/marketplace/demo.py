"""The demo listings: a few hundred second-hand instruments across categories, cities, sites,
prices and dates, made from the templates of `demo/catalogue.json` and loaded through the import
(`imports.importer`), row by row as a scraped file would be: the same checks, the same upserts
keyed on `link`, and the same `marketplace.instruments.imported` event, from which the search
index reads what was written.

The rows are drawn from a seeded random generator, so they are the same at every run: a second
run finds every row unchanged, writes nothing, publishes nothing and returns 0. The sites are
made up (`*.example`) and the images are the demo's own posters (`/media/demo/pictures/`).
"""

from __future__ import annotations

import json
import random
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from importlib import resources
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.marketplace.imports.importer import InstrumentImport, SourceRow

LISTINGS = 360
SEED = 2026
FIRST_PUBLISHED = date(2026, 6, 1)
PUBLISHED_DAYS = 180
Progress = Callable[[int], None]


@dataclass(frozen=True)
class Catalogue:
    categories: dict[str, list[tuple[str, int]]]
    conditions: list[str]
    cities: list[str]
    websites: list[str]


def catalogue() -> Catalogue:
    """The templates of `demo/catalogue.json`: instruments with a new price by category, the
    phrases sellers add, the cities and the sites."""
    source = resources.files("bandstand.marketplace").joinpath("demo", "catalogue.json")
    data: dict[str, Any] = json.loads(source.read_text(encoding="utf-8"))
    return Catalogue(
        categories={
            category: [(str(name), int(price)) for name, price in items]
            for category, items in data["categories"].items()
        },
        conditions=list(data["conditions"]),
        cities=list(data["cities"]),
        websites=list(data["websites"]),
    )


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def image_url(category: str) -> str:
    """The demo poster of a category (see `bandstand.web.media`)."""
    return f"/media/demo/pictures/instrument-{slug(category)}.svg"


def _price(rng: random.Random, new_price: int) -> str | None:
    """A second-hand price, written the ways the scraped sites write prices."""
    if rng.random() < 0.03:
        return None  # "price on request"
    price = new_price * rng.uniform(0.35, 0.95)
    step = 1 if price < 100 else 5 if price < 1000 else 50
    rounded = Decimal(max(step, round(price / step) * step))
    style = rng.random()
    if style < 0.6:
        return f"{rounded:.2f}"
    if style < 0.85:
        return f"{rounded:.0f} €"
    return f"{rounded:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")


def _expiration(rng: random.Random, published: date) -> date | None:
    chance = rng.random()
    if chance < 0.4:
        return None
    if chance < 0.95:
        return published + timedelta(days=rng.randint(300, 720))
    return published + timedelta(days=rng.randint(20, 60))  # a few expired ones, for admins


def demo_rows(count: int = LISTINGS) -> Iterator[dict[str, str | None]]:
    """`count` listings as the cells of an import file's rows (text, or None for empty)."""
    data = catalogue()
    rng = random.Random(SEED)
    templates = [
        (category, name, price)
        for category, items in data.categories.items()
        for name, price in items
    ]
    for number in range(1, count + 1):
        category, name, new_price = rng.choice(templates)
        title = name + rng.choice(data.conditions)
        website = rng.choice(data.websites)
        published = FIRST_PUBLISHED + timedelta(days=rng.randrange(PUBLISHED_DAYS))
        expiration = _expiration(rng, published)
        yield {
            "name": title,
            "price": _price(rng, new_price),
            "link": f"https://{website}/anuncio/{slug(name)}-{number:05d}",
            "image": image_url(category),
            "location": rng.choice(data.cities),
            "category": category,
            "expiration": None if expiration is None else expiration.isoformat(),
            "publish": published.isoformat(),
            "website": website,
        }


async def seed_demo(session: AsyncSession, progress: Progress | None = None) -> int:
    """Import the demo listings in the session's transaction; the number of listings created or
    changed (0 when they are all there as they are). The caller commits."""
    run = InstrumentImport()
    for line, values in enumerate(demo_rows(), start=2):  # line 1: a file's header
        if run.add(SourceRow(line, dict(values))):
            await run.flush(session)
        if progress is not None:
            progress(1)
    await run.flush(session)
    if run.rejected:
        raise ValueError(f"demo listings refused by the import: {run.problems[:3]}")
    if run.inserted + run.updated == 0:
        return 0
    await run.finish(session)
    return run.inserted + run.updated
