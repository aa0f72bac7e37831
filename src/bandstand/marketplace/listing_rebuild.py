"""The command line's rebuild of the listings' search index: every slot no running process
holds (a running process keeps its own current), or a first one."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bandstand.marketplace.listing_documents import FIELDS, VERSION
from bandstand.marketplace.listing_index import ListingIndex, index_root
from bandstand.platform.database import Database
from bandstand.platform.search_index import PrefixIndex
from bandstand.platform.settings import Settings


async def rebuild_free_slots(settings: Settings) -> list[int]:
    """Rebuild every index slot no process holds, or make a first one (the command line); the
    number of listings each now has."""
    root = index_root(settings.data_dir)
    database = Database(settings.database_url("marketplace"))
    held: list[PrefixIndex] = []
    try:
        while (found := await asyncio.to_thread(_open_existing, root)) is not None:
            held.append(found)
        if not held and (first := await asyncio.to_thread(_open_any, root)) is not None:
            held.append(first)
        for index in held:
            listings = ListingIndex(database, root, 0)
            listings.index = index
            await listings.rebuild()
        return [index.documents() for index in held]
    finally:
        for index in held:
            await asyncio.to_thread(index.close)
        await database.dispose()


def _open_existing(root: Path) -> PrefixIndex | None:
    return PrefixIndex.open(root, FIELDS, VERSION, existing=True)


def _open_any(root: Path) -> PrefixIndex | None:
    return PrefixIndex.open(root, FIELDS, VERSION)
