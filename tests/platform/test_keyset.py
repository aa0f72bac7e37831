"""Paging by cursor: the kernel's `keyset` and `pagination` (counts: `test_kept_counts.py`)."""

from __future__ import annotations

import base64
import datetime as dt
import json
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

from bandstand.platform import page_statements, pagination
from bandstand.platform.keyset import AFTER, BEFORE, BadCursor, Ordering
from tests.platform import sample_service
from tests.platform.sample_service import add_gigs

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
def client(sample_client: httpx.AsyncClient) -> httpx.AsyncClient:
    return sample_client


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
    await add_gigs(client, 29)
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
    monkeypatch.setattr(page_statements, "DEFERRED_JOIN_OFFSET", 4)
    deferred = [
        gig
        for number in range(1, 9)
        for gig in (await client.get(f"{listing}&page_size=4&page={number}")).json()["results"]
    ]
    assert deferred == whole
    # Deeper, from the anchors the list keeps for the current write generation: the same rows,
    # and after a write the anchors of the new generation.
    monkeypatch.setattr(page_statements, "ANCHOR_EVERY", 6)
    scans: list[int] = []
    real_anchors = page_statements._anchors

    async def anchors(session: Any, statement: Any, ordering: Any) -> list[str]:
        found = await real_anchors(session, statement, ordering)
        scans.append(len(found))
        return found

    monkeypatch.setattr(page_statements, "_anchors", anchors)
    anchored = [
        gig
        for number in range(1, 9)
        for gig in (await client.get(f"{listing}&page_size=4&page={number}")).json()["results"]
    ]
    assert anchored == whole
    assert scans == [4]
    await add_gigs(client, 1)
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
    monkeypatch.setattr(page_statements, "ANCHOR_EVERY", 10**9)
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
    await add_gigs(client, 5)
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
