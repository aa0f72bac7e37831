"""Comparing bodies byte for byte: a list's items against the same items read one by one."""

from __future__ import annotations

from collections.abc import Sequence


def listed(items: Sequence[bytes]) -> bytes:
    """The JSON array of `items` (each a JSON body, as a route answered it)."""
    return b"[" + b",".join(items) + b"]"


def assert_lists_exactly(body: bytes, items: Sequence[bytes]) -> None:
    """`body` (a bare JSON array, or a page whose `results` come last) lists exactly `items`,
    byte for byte: the same fields in the same order, written the same way."""
    if body.startswith(b"["):
        assert body == listed(items)
    else:
        assert body.endswith(b',"results":' + listed(items) + b"}"), body[:300]
