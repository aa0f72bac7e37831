"""Messages are plain JSON and survive a round trip unchanged."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bandstand.platform.messaging import Message, MessageFormatError

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)
payloads = st.dictionaries(st.text(), json_values, max_size=6)
moments = st.datetimes(timezones=st.just(UTC))


@given(
    payload=payloads,
    occurred_at=moments,
    type=st.text(min_size=1),
    source=st.text(),
    headers=st.dictionaries(st.text(), st.text(), max_size=3),
)
def test_json_round_trip(
    payload: dict[str, Any], occurred_at: datetime, type: str, source: str, headers: dict[str, str]
) -> None:
    message = Message(
        id="8d0c7c52-1f0e-4a43-9b0c-51b1c1a0c5b7",
        type=type,
        occurred_at=occurred_at,
        payload=payload,
        source=source,
        headers=headers,
    )

    assert Message.from_json(message.to_json()) == message


def test_json_is_plain_for_other_languages() -> None:
    message = Message.new("identity.user.registered", {"user_id": 7}, "identity")

    document = json.loads(message.to_json())

    assert set(document) == {"id", "type", "occurred_at", "source", "payload"}
    assert document["type"] == "identity.user.registered"
    assert document["payload"] == {"user_id": 7}
    assert document["source"] == "identity"
    assert document["occurred_at"].endswith("Z")
    assert datetime.fromisoformat(document["occurred_at"]) == message.occurred_at


def test_new_message_has_a_fresh_uuid_and_utc_time() -> None:
    first = Message.new("a.b.c", {}, "tests")
    second = Message.new("a.b.c", {}, "tests")

    assert first.id != second.id
    assert len(first.id) == 36
    assert first.occurred_at.utcoffset() == timedelta(0)


def test_times_are_normalised_to_utc() -> None:
    paris = timezone(timedelta(hours=2))
    message = Message(
        id="x",
        type="a.b",
        occurred_at=datetime(2024, 5, 1, 12, tzinfo=paris),
        payload={},
        source="t",
    )

    assert json.loads(message.to_json())["occurred_at"] == "2024-05-01T10:00:00.000000Z"


VALID = {"id": "x", "type": "a.b", "occurred_at": "2024-01-01T00:00Z", "source": "", "payload": {}}


def document_with(**changes: object) -> bytes:
    return json.dumps({**VALID, **changes}).encode()


def test_the_valid_document_parses() -> None:
    assert Message.from_json(document_with()).type == "a.b"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"id": "x"}',
        b"\xff\xfe",
        document_with(id=1),
        document_with(occurred_at="yesterday"),
        document_with(payload=[]),
        document_with(headers=3),
    ],
)
def test_malformed_bodies_are_rejected(body: bytes) -> None:
    with pytest.raises(MessageFormatError):
        Message.from_json(body)


@given(st.binary())
def test_any_body_parses_or_raises_a_format_error(body: bytes) -> None:
    with contextlib.suppress(MessageFormatError):
        Message.from_json(body)


def test_nan_is_refused_when_publishing() -> None:
    with pytest.raises(ValueError, match="JSON"):
        Message.new("a.b", {"x": float("nan")}, "tests").to_json()
