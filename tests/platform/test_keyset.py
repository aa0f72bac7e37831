"""Paging by cursor and counting lists: the kernel's `keyset`, `pagination` and `list_counts`."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import random
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import Request
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    delete,
    select,
)

from bandstand.platform import list_counts, pagination
from bandstand.platform.keyset import AFTER, BEFORE, BadCursor, Ordering
from bandstand.platform.settings import Settings
from tests.platform import sample_service
from tests.platform.test_service_app import build_app
from tests.support.client import api_client

_TABLE = Table(
    "things",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("flag", Boolean, nullable=False),
    Column("name", String(50), nullable=True),
    Column("price", Numeric(10, 2), nullable=True),
    Column("day", Date, nullable=True),
    Column("at", DateTime, nullable=True),
    Column("ratio", Float, nullable=True),
)
_ORDERING = Ordering.of(
    select(_TABLE).order_by(
        _TABLE.c.flag,
        _TABLE.c.name.desc(),
        _TABLE.c.price.nulls_last(),
        _TABLE.c.day,
        _TABLE.c.at.desc().nulls_first(),
        _TABLE.c.ratio,
        _TABLE.c.id,
    ),
    "sqlite",
)


def _cursor(body: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")


@given(
    st.tuples(
        st.booleans(),
        st.none() | st.text(st.characters(exclude_characters="\x00"), max_size=20),
        st.none() | st.decimals(min_value=-(10**12), max_value=10**12, places=2),
        st.none() | st.dates(),
        st.none() | st.datetimes(),
        st.none() | st.floats(allow_nan=False),
        st.integers(min_value=-(2**31), max_value=2**31 - 1),
    ),
    st.sampled_from([AFTER, BEFORE]),
)
def test_a_cursor_gives_back_the_key_it_was_made_of(
    values: tuple[Any, ...], direction: str
) -> None:
    assert _ORDERING is not None
    cursor = _ORDERING.decode(_ORDERING.encode(direction, values))
    assert (cursor.direction, cursor.values) == (direction, values)


@given(st.text(max_size=200) | st.binary(max_size=200).map(lambda b: _cursor(b.hex())))
def test_any_other_text_is_refused_as_a_bad_cursor(text: str) -> None:
    assert _ORDERING is not None
    refused: BadCursor | None = None
    try:
        _ORDERING.decode(text)
    except BadCursor as error:
        refused = error
    if refused is not None:
        assert refused.status_code == 400
        assert "cursor" in refused.extra


@given(st.lists(st.none() | st.integers() | st.text() | st.floats() | st.booleans(), max_size=8))
def test_values_of_the_wrong_kind_are_refused(tagged: list[Any]) -> None:
    assert _ORDERING is not None
    body = {"o": _ORDERING.fingerprint, "d": AFTER, "v": tagged}
    try:
        _ORDERING.decode(_cursor(body))
    except BadCursor:
        return


def test_values_the_engines_would_refuse_are_bad_cursors() -> None:
    assert _ORDERING is not None
    for name, number in (("a\x00b", 1), ("a", 2**31), ("a", -(2**31) - 1)):
        tagged = [["b", True], ["s", name], None, None, None, None, ["i", number]]
        with pytest.raises(BadCursor):
            _ORDERING.decode(_cursor({"o": _ORDERING.fingerprint, "d": AFTER, "v": tagged}))
    huge = [["b", True], None, ["D", "1e100"], None, None, None, ["i", 1]]
    with pytest.raises(BadCursor):
        _ORDERING.decode(_cursor({"o": _ORDERING.fingerprint, "d": AFTER, "v": huge}))


def test_times_are_compared_as_their_column_holds_them() -> None:
    assert _ORDERING is not None
    aware = dt.datetime(2026, 5, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    values = (True, None, None, None, aware, None, 1)
    decoded = _ORDERING.decode(_ORDERING.encode(AFTER, values)).values
    assert decoded[4] == dt.datetime(2026, 5, 1, 10)
    assert decoded[4].tzinfo is None


def test_a_list_paged_by_number_only_refuses_a_cursor() -> None:
    request = Request({"type": "http", "method": "GET", "path": "/", "query_string": b""})
    with pytest.raises(BadCursor):
        pagination.build_page(request, pagination.PageParams(1, 20, cursor="abc"), 3, [1, 2, 3])


def test_orderings_without_a_unique_last_key_are_paged_by_number() -> None:
    assert Ordering.of(select(_TABLE).order_by(_TABLE.c.name), "sqlite") is None
    assert Ordering.of(select(_TABLE).order_by(_TABLE.c.id + 1), "sqlite") is None
    assert Ordering.of(select(_TABLE), "sqlite") is None


@pytest.fixture
async def client(
    make_settings: Callable[..., Settings], database_urls: Callable[[str], str]
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(databases={"sample": database_urls("sample")})
    app = build_app(settings)
    async with app.state.database.engine.begin() as connection:
        await connection.run_sync(sample_service.SampleBase.metadata.create_all)
    async with api_client(app, raise_app_exceptions=False) as http:
        http.app = app  # type: ignore[attr-defined]
        yield http


async def _add_gigs(client: httpx.AsyncClient, number: int) -> None:
    picked = random.Random(15)
    app = client.app  # type: ignore[attr-defined]
    async with app.state.database.unit_of_work() as session:
        for _ in range(number):
            session.add(
                sample_service.Gig(
                    day=picked.choice([None, dt.date(2026, 5, 1), dt.date(2026, 6, 2)]),
                    score=picked.choice([None, Decimal("1.50"), Decimal("7.25")]),
                    city=picked.choice(["leeds", "york"]),
                )
            )


async def _walk(client: httpx.AsyncClient, url: str, link: str) -> list[int]:
    seen: list[int] = []
    next_url: str | None = url
    while next_url:
        page = (await client.get(next_url)).json()
        seen.extend(page["results"] if link == "next" else reversed(page["results"]))
        next_url = page[link]
    return seen


@pytest.mark.parametrize("ordering", list(sample_service.GIG_ORDERINGS))
async def test_cursors_walk_every_ordering_as_pages_do_with_nulls_and_ties(
    client: httpx.AsyncClient, ordering: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _add_gigs(client, 29)
    listing = f"/api/v1/gigs?ordering={ordering}"
    whole = (await client.get(f"{listing}&page_size=100")).json()["results"]
    assert sorted(whole) == list(range(1, 30))
    forward = await _walk(client, f"{listing}&page_size=4", "next")
    assert forward == whole
    by_number = [
        gig
        for number in range(1, 9)
        for gig in (await client.get(f"{listing}&page_size=4&page={number}")).json()["results"]
    ]
    assert by_number == whole
    # Deep numbered pages read their ids first (a deferred join): the same rows.
    monkeypatch.setattr(pagination, "DEFERRED_JOIN_OFFSET", 4)
    deferred = [
        gig
        for number in range(1, 9)
        for gig in (await client.get(f"{listing}&page_size=4&page={number}")).json()["results"]
    ]
    assert deferred == whole
    # Deeper, from the anchors the list keeps for the current write generation: the same rows,
    # and after a write the anchors of the new generation.
    monkeypatch.setattr(pagination, "ANCHOR_EVERY", 6)
    scans: list[int] = []
    real_anchors = pagination._anchors

    async def anchors(session: Any, statement: Any, ordering: Any) -> list[str]:
        found = await real_anchors(session, statement, ordering)
        scans.append(len(found))
        return found

    monkeypatch.setattr(pagination, "_anchors", anchors)
    anchored = [
        gig
        for number in range(1, 9)
        for gig in (await client.get(f"{listing}&page_size=4&page={number}")).json()["results"]
    ]
    assert anchored == whole
    assert scans == [4]
    await _add_gigs(client, 1)
    after_write = (await client.get(f"{listing}&page_size=100")).json()["results"]
    assert len(after_write) == 30
    anchored = [
        gig
        for number in range(1, 9)
        for gig in (await client.get(f"{listing}&page_size=4&page={number}")).json()["results"]
    ]
    assert anchored == after_write[:32]
    assert scans == [4, 5]
    async with client.app.state.database.unit_of_work() as session:  # type: ignore[attr-defined]
        await session.execute(delete(sample_service.Gig).where(sample_service.Gig.id == 30))
    monkeypatch.setattr(pagination, "ANCHOR_EVERY", 10**9)
    last = (await client.get(f"{listing}&page_size=4&page=8")).json()
    assert last["next"] is None
    # From the last page back to the first by `previous` cursors.
    second_last = (await client.get(last["previous"])).json()
    assert second_last["results"] == whole[24:28]
    start = (await client.get(f"{listing}&page_size=4&page=7")).json()
    third_last_cursor = (await client.get(start["next"])).json()["previous"]
    backward = await _walk(client, third_last_cursor, "previous")
    assert backward == list(reversed(whole[:28]))
    filtered = (await client.get(f"{listing}&city=york&page_size=100")).json()["results"]
    assert await _walk(client, f"{listing}&city=york&page_size=3", "next") == filtered


async def test_bad_cursors_are_refused_naming_the_field(client: httpx.AsyncClient) -> None:
    await _add_gigs(client, 5)
    first = (await client.get("/api/v1/gigs?ordering=day&page_size=2")).json()
    other = (await client.get("/api/v1/gigs?ordering=-day&page_size=2")).json()
    cursor = httpx.URL(first["next"]).params["cursor"]
    fingerprint = json.loads(base64.urlsafe_b64decode(cursor + "==="))["o"]
    refused = [
        "abc",
        "%%%",
        _cursor([1, 2]),
        _cursor({"o": fingerprint, "d": "n", "v": [["s", "x"], ["i", 3]]}),
        _cursor({"o": fingerprint, "d": "n", "v": [None, None]}),
        _cursor({"o": fingerprint, "d": "n", "v": [["d", "2026-13-01"], ["i", 3]]}),
        _cursor({"o": fingerprint, "d": "n", "v": [["d", "2026-01-01"], ["i", 2**70]]}),
        # A value the engines would refuse to compare: past an INTEGER.
        _cursor({"o": fingerprint, "d": "n", "v": [["d", "2026-01-01"], ["i", 2**31]]}),
        _cursor({"o": fingerprint, "d": "x", "v": [None, ["i", 3]]}),
        httpx.URL(other["next"]).params["cursor"],
    ]
    for bad in refused:
        response = await client.get("/api/v1/gigs", params={"ordering": "day", "cursor": bad})
        assert response.status_code == 400, bad
        assert response.json()["detail"].startswith("cursor: ")
        assert "cursor" in response.json()
    accepted = await client.get("/api/v1/gigs", params={"ordering": "day", "cursor": cursor})
    assert accepted.status_code == 200


async def test_a_long_list_keeps_its_count_until_a_write(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    counts = client.app.state.list_counts  # type: ignore[attr-defined]
    counts.exact_up_to = 3
    await _add_gigs(client, 10)
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
    await _add_gigs(client, 1)
    assert (await client.get("/api/v1/gigs?page_size=2")).json()["count"] == 11
    assert counted == [10, 11]


async def test_a_short_list_keeps_its_exact_count_until_a_write(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _add_gigs(client, 4)
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
    await _add_gigs(client, 1)
    assert (await client.get("/api/v1/gigs")).json()["count"] == 5
    assert (await client.get("/api/v1/gigs?city=nowhere")).json()["count"] == 0
    assert len(counted) == 4


async def test_while_a_list_is_recounted_others_get_the_older_count_marked_estimated(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    counts = client.app.state.list_counts  # type: ignore[attr-defined]
    counts.exact_up_to = 3
    await _add_gigs(client, 10)
    assert (await client.get("/api/v1/gigs")).json()["count"] == 10
    await _add_gigs(client, 2)
    release, started = asyncio.Event(), asyncio.Event()
    real = list_counts.exact_count

    async def held(session: Any, statement: Any) -> int:
        started.set()
        await release.wait()
        return await real(session, statement)

    monkeypatch.setattr(list_counts, "exact_count", held)
    recount = asyncio.create_task(client.get("/api/v1/gigs"))
    await started.wait()
    meanwhile = (await client.get("/api/v1/gigs")).json()
    assert (meanwhile["count"], meanwhile["count_estimated"]) == (10, True)
    release.set()
    recounted = (await recount).json()
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
    counts = client.app.state.list_counts  # type: ignore[attr-defined]
    counts.exact_up_to = 3
    await _add_gigs(client, 10)
    assert (await client.get("/api/v1/gigs")).json()["count"] == 10
    recounts: list[int] = []
    release, started = asyncio.Event(), asyncio.Event()
    real = list_counts.exact_count

    async def held(session: Any, statement: Any) -> int:
        recounts.append(1)
        started.set()
        await release.wait()
        return await real(session, statement)

    monkeypatch.setattr(list_counts, "exact_count", held)
    assert "count_estimated" not in (await client.get("/api/v1/gigs")).json()
    assert recounts == []  # in time: answered as kept

    later = list_counts._now() + counts.ttl + 1
    monkeypatch.setattr(list_counts, "_now", lambda: later)
    recount = asyncio.create_task(client.get("/api/v1/gigs"))
    await started.wait()
    meanwhile = (await client.get("/api/v1/gigs")).json()
    assert (meanwhile["count"], meanwhile["count_estimated"]) == (10, True)
    release.set()
    recounted = (await recount).json()
    assert (recounted["count"], "count_estimated" in recounted) == (10, False)
    assert recounts == [1]
    assert "count_estimated" not in (await client.get("/api/v1/gigs")).json()


async def test_a_short_list_past_its_time_is_recounted_by_one_request(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    counts = client.app.state.list_counts  # type: ignore[attr-defined]
    await _add_gigs(client, 4)
    assert (await client.get("/api/v1/gigs")).json()["count"] == 4
    recounts: list[int] = []
    release, started = asyncio.Event(), asyncio.Event()
    real = list_counts.plain_scalar

    async def held(session: Any, statement: Any) -> Any:
        recounts.append(1)
        started.set()
        await release.wait()
        return await real(session, statement)

    monkeypatch.setattr(list_counts, "plain_scalar", held)
    later = list_counts._now() + counts.ttl + 1
    monkeypatch.setattr(list_counts, "_now", lambda: later)
    recount = asyncio.create_task(client.get("/api/v1/gigs"))
    await started.wait()
    meanwhile = await asyncio.gather(*(client.get("/api/v1/gigs") for _ in range(5)))
    assert {(page.json()["count"], page.json()["count_estimated"]) for page in meanwhile} == {
        (4, True)
    }
    release.set()
    recounted = (await recount).json()
    assert (recounted["count"], "count_estimated" in recounted) == (4, False)
    assert recounts == [1]  # not once a request
