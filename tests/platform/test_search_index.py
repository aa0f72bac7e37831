"""The kernel's prefix index: the same matches as a plain scan for any documents and query, its
slots (one process each), and its state kept across a reopen."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bandstand.platform import search_index
from bandstand.platform.search_index import (
    IndexedDocument,
    IndexFields,
    IndexQuery,
    PrefixIndex,
    prefix_terms,
)

FIELDS = IndexFields(keys=("kind",), integers=("price",))
letters = st.text(alphabet="abcñ1", min_size=1, max_size=5)
documents = st.lists(
    st.tuples(
        st.lists(letters, min_size=1, max_size=4),
        st.sampled_from(["x", "y", None]),
        st.one_of(st.none(), st.integers(-5, 5)),
    ),
    max_size=30,
)
queries = st.tuples(
    st.lists(letters, max_size=3),
    st.sampled_from(["x", "y", None]),
    st.one_of(st.none(), st.integers(-5, 5)),
    st.one_of(st.none(), st.integers(-5, 5)),
)


def _open(root: Path) -> PrefixIndex:
    index = PrefixIndex.open(root, FIELDS, 1)
    assert index is not None
    return index


@settings(max_examples=40, deadline=None)
@given(documents, queries)
def test_matches_are_those_of_a_plain_scan(
    stored: list[tuple[list[str], str | None, int | None]],
    query: tuple[list[str], str | None, int | None, int | None],
) -> None:
    words, kind, low, high = query
    with tempfile.TemporaryDirectory() as scratch:
        index = _open(Path(scratch))
        try:
            index.add(
                [
                    IndexedDocument(number, names, {"kind": key}, {"price": price})
                    for number, (names, key, price) in enumerate(stored, start=1)
                ]
            )
            index.commit({})
            asked = IndexQuery(
                words,
                {"kind": kind} if kind else {},
                {"price": (low, high)},
                order="id",
                limit=100,
            )
            count, found = index.search(asked)
        finally:
            index.close()
    expected = [
        number
        for number, (names, key, price) in enumerate(stored, start=1)
        if all(any(name.startswith(word) for name in names) for word in words)
        and (kind is None or key == kind)
        and ((low is None and high is None) or price is not None)
        and (low is None or (price is not None and price >= low))
        and (high is None or (price is not None and price <= high))
    ]
    assert (count, found) == (len(expected), expected)


def test_a_second_opener_takes_another_slot_and_a_reopen_keeps_the_state(
    tmp_path: Path,
) -> None:
    first = _open(tmp_path)
    second = _open(tmp_path)
    assert first.slot != second.slot
    first.add([IndexedDocument(7, ["guitarra"]), IndexedDocument(8, ["guitar"])])
    first.commit({"watermark": 8})
    first.add([IndexedDocument(7, ["bajo"])])  # replaces 7
    first.delete([8])
    first.commit({"watermark": 9})
    first.close()
    second.close()
    again = _open(tmp_path)
    assert again.slot == first.slot
    assert again.built
    assert again.state == {"watermark": 9}
    assert again.search(IndexQuery(["b"])) == (1, [7])
    assert again.search(IndexQuery(["gui"])) == (0, [])
    again.close()


def test_relevance_puts_a_whole_word_first(tmp_path: Path) -> None:
    index = _open(tmp_path)
    index.add([IndexedDocument(1, ["guitarra"]), IndexedDocument(2, ["guitar", "strat"])])
    index.commit({})
    assert index.search(IndexQuery(["guitar"])) == (2, [2, 1])
    assert prefix_terms(["ab", "c"]) == "a ab c"
    index.close()


def test_equal_scores_come_by_id_whatever_order_they_were_indexed_in(tmp_path: Path) -> None:
    index = _open(tmp_path)
    try:
        # Indexed newest first, and one of them indexed again (as a change would be).
        twins = [IndexedDocument(number, ["fender", "strat"]) for number in range(30, 0, -1)]
        index.add(twins)
        index.commit({})
        index.add([IndexedDocument(7, ["fender", "strat"])])
        index.commit({})
        every = list(range(1, 31))
        assert index.search(IndexQuery(["strat"], limit=50)) == (30, every)
        pages = [index.search(IndexQuery(["strat"], offset=o, limit=7))[1] for o in (0, 7, 14)]
        assert pages == [every[0:7], every[7:14], every[14:21]]
    finally:
        index.close()


def test_documents_are_deleted_by_a_range_of_an_integer(tmp_path: Path) -> None:
    index = _open(tmp_path)
    try:
        prices = {1: 3, 2: 5, 3: None, 4: 9}
        index.add([IndexedDocument(n, ["oboe"], integers={"price": p}) for n, p in prices.items()])
        index.commit({})
        index.delete_where("price", None, 5)
        assert index.search(IndexQuery(["oboe"], order="id")) == (4, [1, 2, 3, 4])  # not yet
        index.commit({})
        assert index.search(IndexQuery(["oboe"], order="id")) == (2, [3, 4])
        assert index.documents() == 2
    finally:
        index.close()


def test_a_writer_is_held_only_from_a_write_to_its_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    released: list[None] = []
    monkeypatch.setattr(search_index, "_return_freed_memory", lambda: released.append(None))
    index = _open(tmp_path)
    try:
        assert not index.writing  # opening an index opens no writer
        index.commit({"watermark": 0})  # nothing written: none opened, the state is saved
        assert not index.writing
        assert index.built
        index.add([])
        index.delete([])
        assert not index.writing
        index.add([IndexedDocument(1, ["tuba"])])
        assert index.writing
        index.commit({"watermark": 1})
        assert not index.writing
        assert index.search(IndexQuery(["tu"])) == (1, [1])  # committed: found at once
        index.add([IndexedDocument(2, ["tuba"])])
        index.rollback()
        assert not index.writing
        index.delete([1])
        index.commit({"watermark": 2})
        assert index.search(IndexQuery(["tu"])) == (0, [])
        assert index.state == {"watermark": 2}
        assert len(released) == 3  # once per writer released
    finally:
        index.close()


def test_importing_the_module_does_not_load_the_engine() -> None:
    # tantivy is loaded by the first index opened, not by every process that imports the kernel
    # or a service (a worker, a service whose index is off).
    code = (
        "import sys, bandstand.platform.search_index, bandstand.marketplace.listing_index;"
        "sys.exit('tantivy' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
