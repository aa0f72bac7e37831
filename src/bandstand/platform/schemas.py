"""Text a client may send: only what both database engines can store and compare.

PostgreSQL's text types cannot hold NUL (asyncpg refuses it, a 500 if it gets that far), and
neither engine a lone surrogate (not UTF-8). Every service's request bodies and text query
parameters use `StorableText` (with the field's own constraints) or `StorableStr`, so such input
is a validation error naming the field.

`StorableText` takes the arguments of pydantic's `StringConstraints` and applies them first, so
whitespace is stripped and lengths are checked as usual:
`Annotated[str, StorableText(strip_whitespace=True, max_length=100)]`. Put constraints inside
it rather than in a second `StringConstraints` after it: pydantic applies string constraints
that follow a validator to its output, without stripping.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, StringConstraints

NUL_MESSAGE = "must not contain NUL characters"
UNICODE_MESSAGE = "must be valid Unicode text (no lone surrogates)"


def unstorable_reason(value: str) -> str | None:
    """Why `value` cannot be stored as text, or None when it can."""
    if "\x00" in value:
        return NUL_MESSAGE
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return UNICODE_MESSAGE
    return None


def storable(value: Any) -> Any:
    """`value` unchanged when it is storable text (or not text at all: None of an optional
    field); a ValueError, which pydantic reports against the field, when it is not."""
    if isinstance(value, str):
        reason = unstorable_reason(value)
        if reason is not None:
            raise ValueError(reason)
    return value


@dataclass(frozen=True)
class StorableText(StringConstraints):
    """`StringConstraints` followed by the storability check."""

    def __iter__(self) -> Iterator[Any]:
        yield from super().__iter__()
        yield AfterValidator(storable)


StorableStr = Annotated[str, StorableText()]
"""Any storable text, with no other constraint."""
