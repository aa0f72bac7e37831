"""The search normal form: accents and case go, the result is a fixed point, and a word found in
the normal form of a title or an artist is what the list's search matches."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bandstand.music.search import normalize, search_terms, search_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Café", "cafe"),
        ("  ZOË   Ørsted ", "zoe ørsted"),
        ("Straße", "strasse"),
        ("İstanbul", "istanbul"),
        ("ﬁne", "fine"),
        ("\uff26\uff55\uff4c\uff4c \uff57\uff49\uff44\uff54\uff48", "full width"),
        ("Crème\u00a0brûlée", "creme brulee"),
        ("100% _x_", "100% _x_"),
    ],
)
def test_examples(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_search_text_joins_title_and_artist() -> None:
    assert search_text("Café del Mar", "Zoë") == "cafe del mar zoe"
    assert search_terms("  CAFÉ   Mar ") == ["cafe", "mar"]
    assert search_terms(" \u0301 ") == []


@given(st.text(max_size=40))
def test_normal_form_is_a_fixed_point(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    assert once == once.strip()
    assert "  " not in once
    assert not any(unicodedata.combining(char) for char in once)


@given(st.text(max_size=30), st.text(max_size=30))
def test_every_word_of_a_title_or_artist_finds_it(title: str, artist: str) -> None:
    stored = search_text(title, artist)
    for query in (title, artist, title.upper(), f"{artist} {title}"):
        assert all(term in stored for term in search_terms(query))
