"""Arbitrary bodies and query strings never make a concerts route answer 500: every write either
succeeds and reads back, or is a 4xx that stores nothing."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.concerts.conftest import CONCERT, Concerts

FUZZ_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(
        [
            "",
            "\x00",
            "2027-05-01",
            "2027-05-01T20:00:00+14:00",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-12:00",
            "Attending",
            "-",
        ]
    )
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=5,
)
fields = st.sampled_from([*CONCERT, "id", "created_at", "status"])
bodies = st.dictionaries(fields, json_values, max_size=4).map(
    lambda changes: {**CONCERT, **changes}
) | st.dictionaries(fields, json_values, max_size=4)


@FUZZ_SETTINGS
@given(body=bodies, method=st.sampled_from(["POST", "PUT", "PATCH"]))
async def test_concert_writes(concerts: Concerts, body: dict[str, Any], method: str) -> None:
    await concerts.clear()
    concert_id = await concerts.add_concert()
    before = await concerts.concerts_snapshot()
    path = "/api/v1/concerts" if method == "POST" else f"/api/v1/concerts/{concert_id}"

    response = await concerts.client.request(method, path, json=body, headers=concerts.admin)

    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert await concerts.concerts_snapshot() == before
        return
    stored = await concerts.client.get(f"/api/v1/concerts/{response.json()['id']}")
    assert stored.json() == {**response.json(), "my_status": None}


@FUZZ_SETTINGS
@given(body=json_values)
async def test_attendance_writes(concerts: Concerts, body: Any) -> None:
    await concerts.clear()
    concert_id = await concerts.add_concert()
    response = await concerts.client.put(
        f"/api/v1/concerts/{concert_id}/attendance", json=body, headers=concerts.alice
    )
    assert response.status_code < 500, response.text
    if response.status_code != 200:
        assert await concerts.attendance_rows() == []


query_values = st.text(max_size=20) | json_scalars.map(str)


@FUZZ_SETTINGS
@given(
    params=st.dictionaries(
        st.sampled_from(
            ["city", "date_from", "date_to", "upcoming", "ordering", "page", "page_size", "status"]
        ),
        query_values,
        max_size=4,
    )
)
async def test_list_queries(concerts: Concerts, params: dict[str, str]) -> None:
    for path, headers in (
        ("/api/v1/concerts", {}),
        ("/api/v1/me/concerts", concerts.alice),
    ):
        response = await concerts.client.get(path, params=params, headers=headers)
        assert response.status_code < 500, (path, params, response.text)
