"""The listings' search index measured in-process, in one thread: the varied queries of
`_search_queries` (1,200, fixed seed) on an imported marketplace database, default (relevance)
order, 50 a page: the index alone (exact count and the page's ids), then with the page's rows
read from the database as the service does (`ListingIndex.search`). p50 / p95 / max in ms.

uv run python bench/search_inprocess.py DATABASE_URL DATA_DIR
(DATA_DIR holds the index, `bandstand index instruments --data-dir DATA_DIR`; built if missing.)
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

import _search_queries as sq
from bandstand.marketplace.listing_documents import index_query
from bandstand.marketplace.listing_index import ListingIndex, index_root
from bandstand.marketplace.service import ListingQuery, listing_filters
from bandstand.platform.database import Database


def _summary(name: str, timings: list[float]) -> str:
    ordered = sorted(timings)
    p95 = ordered[int(len(ordered) * 0.95)]
    return (
        f"{name:34} p50 {statistics.median(ordered):6.2f}  p95 {p95:6.2f}  "
        f"max {ordered[-1]:7.2f} ms  ({len(ordered)} queries)"
    )


async def main(url: str, data_dir: Path) -> None:
    database = Database(url)
    listings = ListingIndex(database, index_root(data_dir), poll_seconds=0)
    assert await listings.open(), "every slot is held"
    assert listings.index is not None
    started = time.perf_counter()
    await listings.catch_up()
    print(f"catch-up or build: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    filters = [
        listing_filters(
            ListingQuery(
                search=query["search"],
                category=query.get("category"),
                min_price=Decimal(query["min_price"]) if "min_price" in query else None,
                max_price=Decimal(query["max_price"]) if "max_price" in query else None,
            )
        )
        for query in sq.queries()
    ]
    alone, full = [], []
    async with database.session() as session:
        for given in filters:
            query = index_query(given, 0, 50, listings.index.state.get("day", 0))
            assert query is not None
            began = time.perf_counter()
            listings.index.search(query)
            alone.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            found = await listings.search(session, given, 0, 50)
            full.append((time.perf_counter() - began) * 1000)
            assert found is not None
    print(_summary("index: count and page ids", alone))
    print(_summary("index + the page's rows (service)", full))
    await asyncio.to_thread(listings.index.close)
    await database.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2])))
