"""Property-based tests of the list filters and pagination against a reference model: walking the
pages yields every matching item exactly once, in order, and every page's count agrees with the
filters; attending counts and attendee lists agree with the answers given."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.concerts.conftest import Concerts

PROPERTY_SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

CITIES = ["Lisbon", "lisbon ", "Berlin", "Zürich", "ZÜRICH", "Porto Alegre"]
CITY_FILTERS = ["LISBON", "berlin", "zürich", "Porto", "porto alegre"]


def _anchor() -> datetime:
    """Half an hour from now: concerts an exact number of hours from it are never within the
    example's few seconds of "now", so `upcoming` is unambiguous."""
    return datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=30)


@dataclass(frozen=True)
class Seed:
    city: str
    hours: int  # from the anchor


@dataclass(frozen=True)
class Bound:
    """A date_from or date_to: days from the anchor's day, or hours from the anchor."""

    whole_day: bool
    offset: int

    def value(self, anchor: datetime) -> date | datetime:
        if self.whole_day:
            return anchor.date() + timedelta(days=self.offset)
        return anchor + timedelta(hours=self.offset)


seeds = st.lists(
    st.builds(Seed, st.sampled_from(CITIES), st.integers(-48, 48)), min_size=4, max_size=12
)
bounds = st.none() | st.builds(Bound, st.booleans(), st.integers(-2, 2)).map(
    lambda bound: bound if bound.whole_day else Bound(False, bound.offset * 12)
)
# Mostly unfiltered, so that the other filters are seen on their own often enough.
city_filters = st.sampled_from([None, None, None, *CITY_FILTERS])
upcoming_filters = st.sampled_from([None, None, True, False])


@dataclass(frozen=True)
class Filters:
    city: str | None
    date_from: Bound | None
    date_to: Bound | None
    upcoming: bool | None
    descending: bool
    page_size: int

    def url(self, anchor: datetime) -> str:
        params: dict[str, str] = {"page_size": str(self.page_size)}
        if self.descending:
            params["ordering"] = "-date"
        if self.city is not None:
            params["city"] = self.city
        if self.date_from is not None:
            params["date_from"] = _param(self.date_from.value(anchor))
        if self.date_to is not None:
            params["date_to"] = _param(self.date_to.value(anchor))
        if self.upcoming is not None:
            params["upcoming"] = str(self.upcoming).lower()
        return str(httpx.URL("/api/v1/concerts", params=params))

    def matches(self, city: str, start: datetime, anchor: datetime) -> bool:
        """The reference: the documented meaning of each filter, written independently."""
        if self.city is not None and city.strip().casefold() != self.city.strip().casefold():
            return False
        lower = self.date_from.value(anchor) if self.date_from else None
        upper = self.date_to.value(anchor) if self.date_to else None
        if isinstance(lower, datetime) and start < lower:
            return False
        if type(lower) is date and start.date() < lower:
            return False
        if isinstance(upper, datetime) and start > upper:
            return False
        if type(upper) is date and start.date() > upper:
            return False
        now = anchor - timedelta(minutes=30)
        if self.upcoming is True and start < now:
            return False
        return not (self.upcoming is False and start >= now)


filter_sets = st.builds(
    Filters,
    city=city_filters,
    date_from=bounds,
    date_to=bounds,
    upcoming=upcoming_filters,
    descending=st.booleans(),
    page_size=st.integers(1, 5),
)


def _param(value: date | datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


async def _walk(
    client: httpx.AsyncClient, url: str, headers: dict[str, str]
) -> list[dict[str, Any]]:
    """Every item across the pages, following `next`; checks each page's count and size."""
    response = await client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    page = response.json()
    count, items = page["count"], list(page["results"])
    while page["next"]:
        page = (await client.get(page["next"], headers=headers)).json()
        assert page["count"] == count
        assert page["results"], "a page before the last is never empty"
        items += page["results"]
    assert len(items) == count
    return items


@PROPERTY_SETTINGS
@given(concert_seeds=seeds, queries=st.lists(filter_sets, min_size=3, max_size=6))
async def test_list_filters_and_pagination(
    concerts: Concerts, concert_seeds: list[Seed], queries: list[Filters]
) -> None:
    await concerts.clear()
    anchor = _anchor()
    stored: dict[int, tuple[str, datetime]] = {}
    for number, seed in enumerate(concert_seeds):
        start = anchor + timedelta(hours=seed.hours)
        concert_id = await concerts.add_concert(f"C{number}", city=seed.city, date=start)
        stored[concert_id] = (seed.city, start)

    for filters in queries:
        items = await _walk(concerts.client, filters.url(anchor), {})

        expected = [
            concert_id
            for concert_id, (city, start) in stored.items()
            if filters.matches(city, start, anchor)
        ]
        expected.sort(key=lambda key: (stored[key][1], key), reverse=filters.descending)
        assert [item["id"] for item in items] == expected, filters


answers = st.lists(
    st.tuples(
        st.integers(1, 4),  # user
        st.integers(0, 3),  # which concert
        st.sampled_from(["Attending", "Not Attending", "-"]),
    ),
    max_size=10,
)


@PROPERTY_SETTINGS
@given(given_answers=answers, page_size=st.integers(1, 3))
async def test_counts_and_attendees_agree_with_the_answers(
    concerts: Concerts, given_answers: list[tuple[int, int, str]], page_size: int
) -> None:
    await concerts.clear()
    anchor = _anchor()
    concert_ids = [
        await concerts.add_concert(f"C{number}", date=anchor + timedelta(days=number))
        for number in range(4)
    ]
    tokens = {user: concerts.tokens.headers(user_id=user) for user in range(1, 5)}
    final: dict[tuple[int, int], str] = {}
    for user, which, status in given_answers:
        response = await concerts.client.put(
            f"/api/v1/concerts/{concert_ids[which]}/attendance",
            json={"status": status},
            headers=tokens[user],
        )
        assert response.status_code == 200, response.text
        final[(user, concert_ids[which])] = status

    attending = Counter(
        concert_id for (_, concert_id), status in final.items() if status == "Attending"
    )
    listed = await _walk(concerts.client, f"/api/v1/concerts?page_size={page_size}", {})
    assert {item["id"]: item["attending_count"] for item in listed} == {
        concert_id: attending[concert_id] for concert_id in concert_ids
    }

    for concert_id in concert_ids:
        for status_filter in (None, "Attending", "Not Attending"):
            query = f"page_size={page_size}" + (f"&status={status_filter}" if status_filter else "")
            attendees = await _walk(
                concerts.client,
                f"/api/v1/concerts/{concert_id}/attendees?{query}",
                concerts.admin,
            )
            expected = sorted(
                user
                for (user, answered), status in final.items()
                if answered == concert_id
                and status != "-"
                and (status_filter is None or status == status_filter)
            )
            assert [item["user_id"] for item in attendees] == expected

    for user, headers in tokens.items():
        mine = await _walk(concerts.client, f"/api/v1/me/concerts?page_size={page_size}", headers)
        expected_mine = {
            concert_id: status
            for (answerer, concert_id), status in final.items()
            if answerer == user and status != "-"
        }
        assert {item["concert"]["id"]: item["status"] for item in mine} == expected_mine
        assert [item["concert"]["id"] for item in mine] == sorted(expected_mine)
