"""Song search by substring on SQLite: the trigram index against a scan, in one process.

    uv run python bench/substring_search.py [--songs 100000] [--queries 300] [--ordering id]

The music database is migrated by `bandstand migrate` and filled with the benchmark catalogue
(`_music_data`). Each query is a search people type into the song list: a word of a title, a
word cut short, an artist's name, two words, a short fragment (accents dropped, some with case).
For each, the list's own statements (`SongRepository.listing`: the count and the first page of
50 in title order, or with `--ordering id` in the list's default order, as `paginate` runs them)
run twice on one connection: through the trigram index (what the service does: the count from
the index; in title order the page too unless the term is frequent, in id order the page read in
the index's own order) and as `LIKE '%term%'` over the table (the same condition without the
index, the baseline).
Before measuring, every query must give the same count and page both ways.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import _music_data as data
from bandstand.music.repository import SongFilters, SongRepository, _song_listing
from bandstand.platform.database import Database
from bandstand.platform.pagination import count_of
from bandstand.platform.text_index import _TRIGRAM_TABLES, driven_by_index, for_page
from bandstand.platform.text_search import fold

PAGE = 50


def queries(count: int, seed: int = 15) -> list[str]:
    rng = random.Random(seed)
    words = [fold(word) for word in data.WORDS]
    names = [f"{first} {last}" for first in data.FIRST for last in data.LAST]
    makers: list[Callable[[], str]] = [
        lambda: rng.choice(words),
        lambda: rng.choice(words)[: rng.randint(3, 5)],
        lambda: rng.choice(names),
        lambda: rng.choice(data.LAST),
        lambda: f"{rng.choice(words)} {rng.choice(words)}",
        lambda: rng.choice(words)[1:4].upper(),
    ]
    found: list[str] = []
    while len(found) < count:
        query = rng.choice(makers)()
        if query not in found:
            found.append(query)
    return found


@contextmanager
def scanning() -> Iterator[None]:
    """The same statements without the index: `LIKE` on the table (built again: the list keeps
    its built statements, each with the index it was built with)."""
    saved = dict(_TRIGRAM_TABLES)
    _TRIGRAM_TABLES.pop(("songs", "search_text"))
    _forget_built_statements()
    try:
        yield
    finally:
        _TRIGRAM_TABLES.update(saved)
        _forget_built_statements()


def _forget_built_statements() -> None:
    cast(Any, _song_listing).cache_clear()  # `kept_statements` keeps them in an `lru_cache`


async def one_search(
    database: Database, query: str, ordering: str | None
) -> tuple[int, list[int], float]:
    statement = SongRepository().listing(SongFilters(search=query, ordering=ordering))
    started = time.perf_counter()
    async with database.session() as session:
        count = int((await session.execute(count_of(statement))).scalar_one())
        driven = driven_by_index(statement)
        listed = driven if driven is not None else for_page(statement, count)
        page = [row.id for row in await session.execute(listed.limit(PAGE))]
    return count, page, (time.perf_counter() - started) * 1000


async def measure(url: str, searches: list[str], ordering: str | None) -> dict[str, list[float]]:
    database = Database(url)
    timings: dict[str, list[float]] = {"trigram index": [], "scan (LIKE)": []}
    try:
        for query in searches[:40]:  # correctness first, and warm both paths
            indexed = (await one_search(database, query, ordering))[:2]
            with scanning():
                scanned = (await one_search(database, query, ordering))[:2]
            if indexed != scanned:
                raise SystemExit(f"{query!r}: the index found {indexed}, the scan {scanned}")
        for query in searches:
            timings["trigram index"].append((await one_search(database, query, ordering))[2])
            with scanning():
                timings["scan (LIKE)"].append((await one_search(database, query, ordering))[2])
    finally:
        await database.dispose()
    return timings


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--ordering", choices=("title", "id"), default="title")
    args = parser.parse_args()
    ordering = None if args.ordering == "id" else args.ordering
    searches = queries(args.queries)
    with tempfile.TemporaryDirectory(prefix="bandstand-substring-") as workdir:
        url, cleanup = data.prepare_database("sqlite", Path(workdir))
        try:
            started = time.perf_counter()
            loaded = data.load("sqlite", url, Path(workdir), songs=args.songs, likes=args.songs)
            print(f"loaded {loaded} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
            timings = asyncio.run(measure(url, searches, ordering))
        finally:
            cleanup()
    print(
        f"{args.songs:,} songs, {len(searches)} distinct searches, count + page of {PAGE}"
        f" in {args.ordering} order"
    )
    print("| path | p50 ms | p95 ms | max ms | mean ms |")
    print("|---|---:|---:|---:|---:|")
    for path, values in timings.items():
        print(
            f"| {path} | {statistics.median(values):.2f} | {percentile(values, 0.95):.2f}"
            f" | {max(values):.2f} | {statistics.fmean(values):.2f} |"
        )
    ratio = statistics.fmean(timings["scan (LIKE)"]) / statistics.fmean(timings["trigram index"])
    print(f"mean time, scan / index: {ratio:.1f}x")


if __name__ == "__main__":
    main()
