"""The kernel's storable text: NUL and lone surrogates refused, the field's own constraints
applied as `StringConstraints` would apply them, optional fields left optional."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import BaseModel, ValidationError

from bandstand.platform.schemas import StorableStr, StorableText, unstorable_reason


class Body(BaseModel):
    name: Annotated[str, StorableText(strip_whitespace=True, min_length=1, max_length=5)]
    code: Annotated[str, StorableText(pattern=r"^[a-z]+$")] = "a"
    note: Annotated[str, StorableText(max_length=3)] | None = None
    free: StorableStr = ""


def _error(**fields: object) -> tuple[str, str]:
    with pytest.raises(ValidationError) as caught:
        Body.model_validate({"name": "ok", **fields})
    (error,) = caught.value.errors()
    return ".".join(str(part) for part in error["loc"]), error["type"]


@pytest.mark.parametrize("bad", ["a\x00b", "\x00", "a\ud800", "\udfff"])
@pytest.mark.parametrize("field", ["name", "note", "free"])
def test_unstorable_text_is_an_error_on_its_field(field: str, bad: str) -> None:
    location, kind = _error(**{field: bad})
    assert location.startswith(field)
    assert kind in {"value_error", "string_unicode"}


def test_the_fields_own_constraints_apply_first() -> None:
    body = Body.model_validate({"name": "  abcde  ", "code": "xyz", "note": None, "free": "ü🎸"})
    assert (body.name, body.code, body.note, body.free) == ("abcde", "xyz", None, "ü🎸")
    assert _error(name="abcdef") == ("name", "string_too_long")
    assert _error(name="   ") == ("name", "string_too_short")
    assert _error(code="A") == ("code", "string_pattern_mismatch")
    assert _error(note="abcd")[1] == "string_too_long"


def test_the_json_schema_keeps_the_constraints() -> None:
    properties = Body.model_json_schema()["properties"]
    assert (properties["name"]["minLength"], properties["name"]["maxLength"]) == (1, 5)
    assert properties["code"]["pattern"] == "^[a-z]+$"


def test_reasons() -> None:
    assert unstorable_reason("Zoë 🎸") is None
    assert unstorable_reason("a\x00") == "must not contain NUL characters"
    assert unstorable_reason("\ud800") is not None
