"""From an event to its audit entry and to what it adds to the dashboard's aggregates.

Pure functions: the consumer (`events.record_events`) writes what they compute. Nothing in a
payload can make recording fail: a field of the wrong type is left out, a long text is cut to
its column, NUL characters (which PostgreSQL text refuses) are dropped. A bad event is still
evidence and belongs in the log.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from bandstand.admin.models import (
    ACTION_LENGTH,
    IP_LENGTH,
    SERVICE_LENGTH,
    TARGET_ID_LENGTH,
    TARGET_TYPE_LENGTH,
    USER_AGENT_LENGTH,
)
from bandstand.platform.messaging import Message
from bandstand.platform.schemas import as_utc

USER_REGISTERED = "identity.user.registered"
USER_DELETED = "identity.user.deleted"
USER_LOGGED_IN = "identity.user.logged_in"
ORDER_COMPLETED = "billing.order.completed"
ENROLMENT_CREATED = "academy.enrollment.created"
SONG_CREATED = "music.song.created"
SONG_UPDATED = "music.song.updated"
SONG_DELETED = "music.song.deleted"
SONG_LIKED = "music.song.liked"
SONG_UNLIKED = "music.song.unliked"

# Daily metrics, and the running total of users.
REGISTRATIONS = "registrations"
DELETIONS = "deletions"
LOGINS = "logins"
ENROLMENTS = "enrolments"
ORDERS_COMPLETED = "orders_completed"
"""Stored per currency as `orders_completed:<CUR>`."""
EVENTS = "events"
USERS = "users"
MAX_BIGINT = 2**63 - 1
# ISO 4217's code for "no currency": revenue of an order that named none.
NO_CURRENCY = "XXX"


def _text(value: Any, length: int) -> str | None:
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    text = str(value).replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return text[:length] or None


def _integer(value: Any) -> int | None:
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and -MAX_BIGINT <= value <= MAX_BIGINT
    ):
        return value
    return None


def target_of(message: Message) -> tuple[str | None, str | None]:
    """`music.song.liked` with `{"song_id": 7}` is song 7: the routing key's entity word and the
    payload's `<entity>_id` (or its `key`, for what is named by a key, like a setting)."""
    words = message.type.split(".")
    if len(words) < 3:
        return None, None
    entity = words[1]
    target = message.payload.get(f"{entity}_id")
    if target is None:
        target = message.payload.get("key")
    return _text(entity, TARGET_TYPE_LENGTH), _text(target, TARGET_ID_LENGTH)


def service_of(message: Message) -> str:
    return _text(message.source, SERVICE_LENGTH) or message.type.split(".")[0][:SERVICE_LENGTH]


def action_of(message: Message) -> str:
    return _text(message.type, ACTION_LENGTH) or "unknown"


def entry_values(message: Message, recorded_at: datetime) -> dict[str, Any]:
    """The audit_log row of `message`."""
    payload = message.payload
    target_type, target_id = target_of(message)
    return {
        "event_id": message.id,
        "occurred_at": as_utc(message.occurred_at),
        "recorded_at": recorded_at,
        "service": service_of(message),
        "action": action_of(message),
        "actor_id": _integer(payload.get("actor_id")),
        "target_type": target_type,
        "target_id": target_id,
        "details": payload,
        "ip_address": _text(payload.get("ip_address"), IP_LENGTH),
        "user_agent": _text(payload.get("user_agent"), USER_AGENT_LENGTH),
    }


@dataclass
class SongChange:
    title: str | None = None
    artist: str | None = None
    like_count: int | None = None
    likes_at: datetime | None = None
    deleted: bool = False


@dataclass
class Aggregates:
    """What a batch of new events adds to the aggregates."""

    audit_counts: Counter[tuple[date, str, str]] = field(default_factory=Counter)
    daily_counts: Counter[tuple[str, date]] = field(default_factory=Counter)
    daily_amounts: dict[tuple[str, date], Decimal] = field(default_factory=dict)
    counters: Counter[str] = field(default_factory=Counter)
    songs: dict[int, SongChange] = field(default_factory=dict)

    def add(self, message: Message) -> None:
        moment = as_utc(message.occurred_at)
        day = moment.date()
        self.audit_counts[(day, service_of(message), action_of(message))] += 1
        self._daily(EVENTS, day)
        payload = message.payload
        kind = message.type
        if kind == USER_REGISTERED:
            self._daily(REGISTRATIONS, day)
            self.counters[USERS] += 1
        elif kind == USER_DELETED:
            self._daily(DELETIONS, day)
            self.counters[USERS] -= 1
        elif kind == USER_LOGGED_IN:
            self._daily(LOGINS, day)
        elif kind == ENROLMENT_CREATED:
            self._daily(ENROLMENTS, day)
        elif kind == ORDER_COMPLETED:
            currency = _text(payload.get("currency"), 3) or NO_CURRENCY
            self._daily(f"{ORDERS_COMPLETED}:{currency.upper()}", day, _amount(payload))
        elif kind in (SONG_CREATED, SONG_UPDATED, SONG_DELETED, SONG_LIKED, SONG_UNLIKED):
            self._song(kind, payload, moment)

    def _daily(self, metric: str, day: date, amount: Decimal | None = None) -> None:
        self.daily_counts[(metric, day)] += 1
        key = (metric, day)
        self.daily_amounts[key] = self.daily_amounts.get(key, Decimal("0")) + (amount or 0)

    def _song(self, kind: str, payload: dict[str, Any], moment: datetime) -> None:
        song_id = _integer(payload.get("song_id"))
        if song_id is None:
            return
        change = self.songs.setdefault(song_id, SongChange())
        if kind == SONG_DELETED:
            change.deleted = True
        elif kind in (SONG_CREATED, SONG_UPDATED):
            change.title = _text(payload.get("title"), 200) or change.title
            change.artist = _text(payload.get("artist"), 200) or change.artist
        else:
            like_count = _integer(payload.get("like_count"))
            if like_count is not None and (change.likes_at is None or moment >= change.likes_at):
                change.like_count = max(like_count, 0)
                change.likes_at = moment


def _amount(payload: dict[str, Any]) -> Decimal:
    """The order's total as a decimal with two places; 0 when it is not a number."""
    value = payload.get("total_amount")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return Decimal("0")
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return Decimal("0")
    if not amount.is_finite() or abs(amount) >= Decimal("1e15"):
        return Decimal("0")
    return amount


def aggregate(messages: list[Message]) -> Aggregates:
    totals = Aggregates()
    for message in messages:
        totals.add(message)
    return totals
