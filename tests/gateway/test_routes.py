"""The prefix table: whole segments, the longest prefix, and a reference model."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bandstand.gateway.routes import RouteTable


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/users", "identity"),
        ("/users/7", "identity"),
        ("/users/7/roles", "identity"),
        ("/usersx", None),
        ("/user", None),
        ("/", None),
        ("/api/v1/users", "identity"),
        ("/api/v1/users-export", None),
    ],
)
def test_prefixes_match_whole_segments(path: str, expected: str | None) -> None:
    table = RouteTable([("/users", "identity"), ("/api/v1/users", "identity")])
    assert table.match(path) == expected


def test_the_longest_prefix_wins_whatever_the_order() -> None:
    routes = [("/api/v1", "catalogue"), ("/api/v1/users", "identity"), ("/api", "legacy")]
    for ordering in (routes, list(reversed(routes))):
        table = RouteTable(ordering)
        assert table.match("/api/v1/users/3") == "identity"
        assert table.match("/api/v1/users") == "identity"
        assert table.match("/api/v1/songs") == "catalogue"
        assert table.match("/api/v2") == "legacy"
        assert table.match("/apis") is None


def test_prefixes_are_normalised() -> None:
    table = RouteTable([("users/", "identity"), ("/songs/", "music")])
    assert table.match("/users/1") == "identity"
    assert table.match("/songs") == "music"
    assert table.prefixes("identity") == ["/users"]


def test_the_root_prefix_is_the_last_resort() -> None:
    table = RouteTable([("/", "web"), ("/api/v1/users", "identity")])
    assert table.match("/") == "web"
    assert table.match("/about") == "web"
    assert table.match("/api/v1/users/1") == "identity"


def test_one_prefix_cannot_belong_to_two_services() -> None:
    with pytest.raises(ValueError, match="/users"):
        RouteTable([("/users", "identity"), ("/users/", "music")])
    # Listing the same prefix twice for one service is harmless.
    assert RouteTable([("/users", "identity"), ("/users", "identity")]).match("/users") == (
        "identity"
    )


def test_services_and_prefixes() -> None:
    table = RouteTable([("/b", "two"), ("/a", "one"), ("/c", "one")])
    assert table.services() == ["one", "two"]
    assert table.prefixes("one") == ["/a", "/c"]
    assert table.prefixes("missing") == []


def _reference(routes: dict[str, str], path: str) -> str | None:
    """The specification, written the slow and obvious way."""
    candidates = [
        prefix
        for prefix in routes
        if prefix == "/" or path == prefix or path.startswith(prefix + "/")
    ]
    return routes[max(candidates, key=len)] if candidates else None


segments = st.lists(st.sampled_from(["a", "ab", "b", "api", "v1", "users", "x-y"]), max_size=4)
prefix_paths = segments.map(lambda parts: "/" + "/".join(parts))


@given(
    routes=st.dictionaries(prefix_paths, st.sampled_from(["s1", "s2", "s3"]), max_size=8),
    path=segments.map(lambda parts: "/" + "/".join(parts)),
    tail=st.sampled_from(["", "/", "x", "/x", "/x/y"]),
)
def test_matches_the_reference_model(routes: dict[str, str], path: str, tail: str) -> None:
    table = RouteTable(routes.items())
    candidate = (path.rstrip("/") or "") + tail if tail else path
    candidate = candidate or "/"
    assert table.match(candidate) == _reference(routes, candidate)


@given(
    routes=st.dictionaries(prefix_paths, st.sampled_from(["s1", "s2"]), min_size=1, max_size=8),
    extra=segments,
)
def test_a_prefix_and_anything_below_it_reach_the_same_service(
    routes: dict[str, str], extra: list[str]
) -> None:
    table = RouteTable(routes.items())
    for prefix in routes:
        below = prefix.rstrip("/") + "".join(f"/{part}" for part in extra)
        owner = table.match(below or "/")
        # Something at least as specific as `prefix` answers: never nothing.
        assert owner is not None
        if not extra:
            assert owner == routes[prefix]
