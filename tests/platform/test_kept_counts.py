"""Counting lists without counting on every request: the kernel's `list_counts` through the
sample service, kept until a write or its time, recounted by one request while the others are
answered the count kept before."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from bandstand.platform import list_counts
from bandstand.platform.settings import Settings
from tests.platform.sample_service import add_gigs
from tests.platform.test_service_app import build_app


@pytest.fixture
def client(sample_client: httpx.AsyncClient) -> httpx.AsyncClient:
    return sample_client


async def _long_list(client: httpx.AsyncClient) -> Any:
    """The sample service's counts, counting exactly up to 3 rows, and 10 gigs: a long list."""
    counts = client.app.state.list_counts  # type: ignore[attr-defined]
    counts.exact_up_to = 3
    await add_gigs(client, 10)
    return counts


def _past_their_time(monkeypatch: pytest.MonkeyPatch, counts: Any) -> None:
    """The clock of `list_counts` moved past the time a count is kept."""
    later = list_counts._now() + counts.ttl + 1
    monkeypatch.setattr(list_counts, "_now", lambda: later)


async def test_a_long_list_keeps_its_count_until_a_write(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _long_list(client)
    counted: list[int] = []
    real = list_counts.exact_count

    async def counting(session: Any, statement: Any) -> int:
        value = await real(session, statement)
        counted.append(value)
        return value

    monkeypatch.setattr(list_counts, "exact_count", counting)
    for _ in range(3):
        page = (await client.get("/api/v1/gigs?page_size=2")).json()
        assert (page["count"], "count_estimated" in page) == (10, False)
    assert counted == [10]
    await add_gigs(client, 1)
    assert (await client.get("/api/v1/gigs?page_size=2")).json()["count"] == 11
    assert counted == [10, 11]


async def test_a_short_list_keeps_its_exact_count_until_a_write(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await add_gigs(client, 4)
    counted: list[str] = []
    real = list_counts.bounded_count_of

    def counting(statement: Any, bound: int) -> Any:
        counted.append(str(statement.whereclause))
        return real(statement, bound)

    monkeypatch.setattr(list_counts, "bounded_count_of", counting)
    for _ in range(3):
        assert (await client.get("/api/v1/gigs")).json()["count"] == 4
        assert (await client.get("/api/v1/gigs?city=nowhere")).json()["count"] == 0
    assert len(counted) == 2
    await add_gigs(client, 1)
    assert (await client.get("/api/v1/gigs")).json()["count"] == 5
    assert (await client.get("/api/v1/gigs?city=nowhere")).json()["count"] == 0
    assert len(counted) == 4


@dataclass
class _Held:
    """A counting statement of `list_counts` held until released, its calls counted."""

    release: asyncio.Event = field(default_factory=asyncio.Event)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    calls: int = 0


def _hold(monkeypatch: pytest.MonkeyPatch, name: str) -> _Held:
    held = _Held()
    real = getattr(list_counts, name)

    async def holding(session: Any, statement: Any) -> Any:
        held.calls += 1
        held.started.set()
        await held.release.wait()
        return await real(session, statement)

    monkeypatch.setattr(list_counts, name, holding)
    return held


async def _recounted_while_read(
    client: httpx.AsyncClient, held: _Held, readers: int = 1
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A read of the list that recounts it (`held`), and `readers` reads meanwhile: their
    bodies, then the recounting read's once released."""
    recount = asyncio.create_task(client.get("/api/v1/gigs"))
    await held.started.wait()
    meanwhile = await asyncio.gather(*(client.get("/api/v1/gigs") for _ in range(readers)))
    held.release.set()
    return [page.json() for page in meanwhile], (await recount).json()


async def test_while_a_list_is_recounted_others_get_the_older_count_marked_estimated(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _long_list(client)
    assert (await client.get("/api/v1/gigs")).json()["count"] == 10
    await add_gigs(client, 2)
    held = _hold(monkeypatch, "exact_count")
    [meanwhile], recounted = await _recounted_while_read(client, held)
    assert (meanwhile["count"], meanwhile["count_estimated"]) == (10, True)
    assert (recounted["count"], "count_estimated" in recounted) == (12, False)
    assert "count_estimated" not in (await client.get("/api/v1/gigs")).json()


async def test_counting_is_exact_every_time_when_keeping_is_off(
    make_settings: Callable[..., Settings], database_urls: Callable[[str], str]
) -> None:
    settings = make_settings(
        databases={"sample": database_urls("sample")}, list_count_cache_seconds=0
    )
    app = build_app(settings)
    assert app.state.list_counts.keep is False


async def test_a_count_kept_past_its_time_is_recounted_while_others_get_it_estimated(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    counts = await _long_list(client)
    assert (await client.get("/api/v1/gigs")).json()["count"] == 10
    held = _hold(monkeypatch, "exact_count")
    assert "count_estimated" not in (await client.get("/api/v1/gigs")).json()
    assert held.calls == 0  # in time: answered as kept

    _past_their_time(monkeypatch, counts)
    [meanwhile], recounted = await _recounted_while_read(client, held)
    assert (meanwhile["count"], meanwhile["count_estimated"]) == (10, True)
    assert (recounted["count"], "count_estimated" in recounted) == (10, False)
    assert held.calls == 1
    assert "count_estimated" not in (await client.get("/api/v1/gigs")).json()


async def test_a_short_list_past_its_time_is_recounted_by_one_request(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    counts = client.app.state.list_counts  # type: ignore[attr-defined]
    await add_gigs(client, 4)
    assert (await client.get("/api/v1/gigs")).json()["count"] == 4
    held = _hold(monkeypatch, "plain_scalar")
    _past_their_time(monkeypatch, counts)
    meanwhile, recounted = await _recounted_while_read(client, held, readers=5)
    assert {(page["count"], page["count_estimated"]) for page in meanwhile} == {(4, True)}
    assert (recounted["count"], "count_estimated" in recounted) == (4, False)
    assert held.calls == 1  # not once a request
