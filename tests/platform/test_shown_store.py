"""The objects a search index keeps beside it: a page of them in the order of its ids, cut to a
shape showing the first fields, None when one is missing; written in one transaction that others
see only once committed; and the index keeps the store level with itself."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from bandstand.platform.search_index import (
    SHOWN_FILE,
    IndexedDocument,
    IndexFields,
    IndexQuery,
    PrefixIndex,
)
from bandstand.platform.shown_store import ShownStore


def _object(number: int, name: str) -> str:
    return json.dumps(
        {"id": number, "name": name, "at": "2026-01-02T03:04:05Z"}, separators=(",", ":")
    )


def _on_another_thread(store: ShownStore, ids: list[int], cut: str = "") -> str | None:
    found: list[str | None] = []
    thread = threading.Thread(target=lambda: found.append(store.page(ids, cut)))
    thread.start()
    thread.join()
    return found[0]


def test_a_page_is_the_objects_of_its_ids_in_their_order(tmp_path: Path) -> None:
    store = ShownStore(tmp_path / "shown.sqlite3")
    names = {1: "uno", 2: 'dos "comillas" \\ y ,"at":', 3: "tres 🎸"}
    store.put((number, _object(number, name)) for number, name in names.items())
    store.commit()
    page = store.page([3, 1, 2])
    assert page is not None
    assert json.loads(page) == [json.loads(_object(n, names[n])) for n in (3, 1, 2)]
    assert store.page([]) == "[]"
    assert store.page([1, 9]) is None  # one is not kept: the caller reads the record


def test_a_shape_showing_the_first_fields_is_cut_before_the_next_key(tmp_path: Path) -> None:
    store = ShownStore(tmp_path / "shown.sqlite3")
    # The key's text inside a value is escaped, so only the real key is cut at.
    store.put([(1, _object(1, 'looks like ,"at": a key'))])
    store.commit()
    page = store.page([1], cut=',"at":')
    assert page is not None
    assert json.loads(page) == [{"id": 1, "name": 'looks like ,"at": a key'}]


def test_writes_are_seen_by_other_threads_once_committed_and_not_after_a_rollback(
    tmp_path: Path,
) -> None:
    store = ShownStore(tmp_path / "shown.sqlite3")
    store.put([(1, _object(1, "first"))])
    store.commit()
    store.put([(1, _object(1, "second")), (2, _object(2, "new"))])
    store.delete([])
    assert _on_another_thread(store, [1]) == f"[{_object(1, 'first')}]"
    assert _on_another_thread(store, [2]) is None
    store.commit()
    assert _on_another_thread(store, [1, 2]) == f"[{_object(1, 'second')},{_object(2, 'new')}]"
    store.delete([2])
    store.rollback()
    assert _on_another_thread(store, [2]) == f"[{_object(2, 'new')}]"
    store.delete([2])
    store.commit()
    assert _on_another_thread(store, [2]) is None
    store.clear()
    store.commit()
    assert _on_another_thread(store, [1]) is None
    store.close()


def _index(root: Path, version: int = 1) -> PrefixIndex:
    index = PrefixIndex.open(root, IndexFields(shown=True), version)
    assert index is not None
    return index


def _document(number: int, name: str) -> IndexedDocument:
    return IndexedDocument(number, name.split(), shown=_object(number, name))


def test_an_index_gives_its_pages_objects_and_keeps_its_store_level(tmp_path: Path) -> None:
    index = _index(tmp_path)
    index.add([_document(1, "oboe grande"), _document(2, "oboe"), _document(3, "tuba")])
    index.commit({})
    count, ids, page = index.search_shown(IndexQuery(["oboe"]))
    assert (count, ids) == (2, [2, 1])
    assert page == f"[{_object(2, 'oboe')},{_object(1, 'oboe grande')}]"
    assert index.search_shown(IndexQuery(["oboe"]), cut=',"name":')[2] == '[{"id":2},{"id":1}]'
    assert index.search_shown(IndexQuery(["oboe"]), cut=',"none":')[2] is None

    index.add([_document(2, "oboe barroco")])  # replaced: its new object with it
    index.delete([1])
    index.commit({})
    assert index.search_shown(IndexQuery(["oboe"])) == (1, [2], f"[{_object(2, 'oboe barroco')}]")

    index.clear()  # a rebuild: nothing is kept until it adds them again
    index.add([_document(3, "tuba")], replace=False)
    index.commit({})
    assert index.search_shown(IndexQuery(["tuba"])) == (1, [3], f"[{_object(3, 'tuba')}]")
    assert _on_another_thread(index.shown, [2]) is None  # type: ignore[arg-type]
    index.close()

    reopened = _index(tmp_path)  # the same version: the store is kept
    assert reopened.search_shown(IndexQuery(["tuba"]))[2] == f"[{_object(3, 'tuba')}]"
    reopened.close()
    changed = _index(tmp_path, version=2)  # another format: index and store start empty
    assert not changed.built
    assert changed.search_shown(IndexQuery(["tuba"])) == (0, [], "[]")
    assert changed.shown is not None
    assert changed.shown.page([3]) is None
    changed.close()


def test_a_rolled_back_write_leaves_index_and_store_as_they_were(tmp_path: Path) -> None:
    index = _index(tmp_path)
    index.add([_document(1, "oboe")])
    index.commit({})
    index.add([_document(1, "corno")])
    index.rollback()
    assert index.search_shown(IndexQuery(["oboe"])) == (1, [1], f"[{_object(1, 'oboe')}]")
    assert (tmp_path / "slot-0" / SHOWN_FILE).is_file()
    index.close()


def test_an_index_without_objects_refuses_to_give_them(tmp_path: Path) -> None:
    index = PrefixIndex.open(tmp_path, IndexFields(), 1)
    assert index is not None
    assert index.shown is None
    with pytest.raises(ValueError, match="keeps no objects"):
        index.search_shown(IndexQuery(["oboe"]))
    assert not (tmp_path / "slot-0" / SHOWN_FILE).exists()
    index.close()


def test_a_store_that_cannot_be_read_gives_no_page(tmp_path: Path) -> None:
    store = ShownStore(tmp_path / "shown.sqlite3")
    store.put([(1, _object(1, "uno"))])
    store.commit()
    store.close()
    ShownStore.remove(store.path)  # gone underneath: the record answers instead
    assert _on_another_thread(store, [1]) is None
