"""The message every service publishes and consumes: plain JSON any language can read."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bandstand.platform.clock import utcnow
from bandstand.platform.schemas import as_utc


class MessageFormatError(ValueError):
    """A message body is not the JSON shape of a `Message`."""


@dataclass(frozen=True)
class Message:
    """One event or work item.

    `type` is the routing key (`<service>.<entity>.<past_verb>` for events), `source` the name of
    the publishing service and `occurred_at` an aware UTC datetime.
    """

    id: str
    type: str
    occurred_at: datetime
    payload: dict[str, Any] = field(hash=False)
    source: str
    headers: Mapping[str, str] = field(default_factory=dict, hash=False)

    @classmethod
    def new(
        cls,
        type: str,
        payload: dict[str, Any],
        source: str,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> Message:
        return cls(
            id=str(uuid.uuid4()),
            type=type,
            occurred_at=utcnow(),
            payload=payload,
            source=source,
            headers=dict(headers or {}),
        )

    def to_json(self) -> bytes:
        document: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "occurred_at": _format_time(self.occurred_at),
            "source": self.source,
            "payload": self.payload,
        }
        if self.headers:
            document["headers"] = dict(self.headers)
        # allow_nan=False: NaN and Infinity are not JSON and other languages reject them.
        return json.dumps(document, separators=(",", ":"), allow_nan=False).encode()

    @classmethod
    def from_json(cls, body: bytes | str) -> Message:
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise MessageFormatError(f"message body is not JSON: {exc}") from exc
        if not isinstance(document, dict):
            raise MessageFormatError("message body is not a JSON object")
        try:
            headers = document.get("headers") or {}
            message = cls(
                id=_string(document, "id"),
                type=_string(document, "type"),
                occurred_at=_parse_time(_string(document, "occurred_at")),
                payload=document["payload"],
                source=_string(document, "source"),
                headers={str(key): str(value) for key, value in dict(headers).items()},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MessageFormatError(f"invalid message: {exc!r}") from exc
        if not isinstance(message.payload, dict):
            raise MessageFormatError("message payload is not a JSON object")
        return message


def _string(document: dict[str, Any], key: str) -> str:
    value = document[key]
    if not isinstance(value, str):
        raise TypeError(f"{key} is not a string")
    return value


def _format_time(moment: datetime) -> str:
    return as_utc(moment).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _parse_time(text: str) -> datetime:
    return as_utc(datetime.fromisoformat(text))
