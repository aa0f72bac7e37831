"""What the search index's tests share: the index built and level, and a search's ids."""

from __future__ import annotations

from typing import Any

import httpx

from bandstand.marketplace.listing_index import ListingIndex
from tests.marketplace.conftest import Marketplace


def index_of(marketplace: Marketplace) -> ListingIndex:
    """The app's listing index."""
    index: ListingIndex = marketplace.app.state.listing_index
    return index


async def ready_index(marketplace: Marketplace) -> ListingIndex:
    """The app's listing index, caught up (built, if its background task has not yet)."""
    index = index_of(marketplace)
    await index.catch_up()
    assert index.ready
    return index


async def search_ids(client: httpx.AsyncClient, **params: Any) -> tuple[int, list[int]]:
    """The count and the ids of a search's first 100 listings."""
    response = await client.get("/api/v1/instruments", params={"page_size": 100, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    return body["count"], [listing["id"] for listing in body["results"]]
