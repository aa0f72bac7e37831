"""The kernel's search normal form: accents and case go, the result is a fixed point, and LIKE's
wildcards in a query are plain characters."""

from __future__ import annotations

import unicodedata

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bandstand.platform.text_search import (
    contains_phrase,
    contains_words,
    escape_like,
    fold,
    normalize,
    search_terms,
)


class _Base(DeclarativeBase):
    pass


class _Row(_Base):
    __tablename__ = "rows"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Café", "cafe"),
        ("  ZOË   Ørsted ", "zoe ørsted"),
        ("Straße", "strasse"),
        ("İstanbul", "istanbul"),
        ("ﬁne", "fine"),
        ("Crème\u00a0brûlée", "creme brulee"),
        ("100% _x_", "100% _x_"),
    ],
)
def test_examples(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_terms_and_escaping() -> None:
    assert search_terms("  CAFÉ   Mar ") == ["cafe", "mar"]
    assert search_terms(" \u0301 ") == []
    assert escape_like(r"50%_a\b") == r"50\%\_a\\b"


@given(st.text(max_size=40))
def test_normal_form_is_a_fixed_point(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    assert once == once.strip()
    assert "  " not in once
    assert not any(unicodedata.combining(char) for char in once)


def test_conditions_match_words_or_a_phrase_with_wildcards_taken_literally() -> None:
    engine = sa.create_engine("sqlite://")
    keys = ["cafe noir", "noir cafe", "100% cafe", "1000 cafe", "a_b", "axb", r"back\slash"]
    with engine.begin() as connection:
        _Base.metadata.create_all(connection)
        connection.execute(sa.insert(_Row), [{"key": key} for key in keys])

        def found(*conditions: sa.ColumnElement[bool]) -> list[str]:
            statement = sa.select(_Row.key).where(*conditions).order_by(_Row.id)
            return list(connection.execute(statement).scalars())

        assert found(*contains_words(_Row.key, "CAFÉ Noir")) == ["cafe noir", "noir cafe"]
        assert found(contains_phrase(_Row.key, "Café  NOIR")) == ["cafe noir"]
        assert found(contains_phrase(_Row.key, "100%")) == ["100% cafe"]
        assert found(*contains_words(_Row.key, "a_b")) == ["a_b"]
        assert found(contains_phrase(_Row.key, "k\\s")) == [r"back\slash"]


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=40))
def test_the_ascii_shortcut_folds_as_the_full_decomposition_does(text: str) -> None:
    decomposed = unicodedata.normalize("NFKD", text).casefold()
    assert fold(text) == unicodedata.normalize("NFKD", decomposed)


@given(st.text(max_size=40))
def test_normalize_is_fold_with_whitespace_collapsed(text: str) -> None:
    assert normalize(text) == " ".join(fold(text).split())
    assert not any(unicodedata.combining(char) for char in fold(text))
