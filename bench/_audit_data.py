"""The audit benchmark's events and entries: the platform's kinds of event, deterministic."""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg

from bandstand.platform.messaging import Message

SEED = 20261201
START = datetime(2026, 1, 1, tzinfo=UTC)
DAYS = 330
KINDS: list[tuple[str, str]] = [
    ("identity.user.logged_in", "user_id"),
    ("identity.user.registered", "user_id"),
    ("identity.user.updated", "user_id"),
    ("music.song.liked", "song_id"),
    ("music.song.unliked", "song_id"),
    ("music.song.created", "song_id"),
    ("music.album.updated", "album_id"),
    ("concerts.attendance.changed", "concert_id"),
    ("concerts.concert.created", "concert_id"),
    ("billing.order.created", "order_id"),
    ("billing.order.completed", "order_id"),
    ("academy.enrollment.created", "enrollment_id"),
    ("academy.lesson.completed", "lesson_id"),
    ("marketplace.instrument.updated", "instrument_id"),
    ("inventory.movie.created", "movie_id"),
    ("admin.setting.updated", "setting_id"),
]
WEIGHTS = [30, 3, 2, 20, 4, 1, 1, 8, 1, 6, 5, 5, 8, 2, 1, 1]


def _payload(rng: random.Random, id_key: str, serial: int) -> dict[str, Any]:
    actor = rng.randrange(1, 5_000)
    payload: dict[str, Any] = {id_key: rng.randrange(1, 100_000), "actor_id": actor}
    if id_key == "user_id":
        payload.update(ip_address=f"198.51.{serial % 256}.{actor % 256}", user_agent="Mozilla/5.0")
    if id_key == "order_id":
        payload.update(total_amount=f"{rng.randrange(100, 99_999) / 100:.2f}", currency="EUR")
    if id_key == "song_id":
        payload.update(like_count=rng.randrange(0, 500))
    return payload


def events(count: int, seed: int) -> list[Message]:
    rng = random.Random(seed)
    messages = []
    now = datetime.now(UTC)
    for serial in range(count):
        type_, id_key = rng.choices(KINDS, WEIGHTS)[0]
        occurred = now - timedelta(seconds=rng.randrange(0, 86_400))
        messages.append(
            Message(
                str(uuid.uuid4()),
                type_,
                occurred,
                _payload(rng, id_key, serial),
                type_.split(".")[0],
            )
        )
    return messages


COLUMNS = [
    "event_id",
    "occurred_at",
    "recorded_at",
    "service",
    "action",
    "actor_id",
    "target_type",
    "target_id",
    "details",
    "ip_address",
    "user_agent",
]


def entry_rows(count: int, counts: Counter[tuple[date, str, str]]) -> Iterator[dict[str, Any]]:
    """`count` entries over DAYS days (deterministic), adding each to `counts` as the consumer
    keeps its per-day counts."""
    rng = random.Random(SEED)
    for serial in range(count):
        type_, id_key = rng.choices(KINDS, WEIGHTS)[0]
        occurred = START + timedelta(seconds=rng.randrange(0, DAYS * 86_400))
        payload = _payload(rng, id_key, serial)
        service, entity = type_.split(".")[:2]
        counts[(occurred.date(), service, type_)] += 1
        yield {
            "event_id": str(uuid.UUID(int=rng.getrandbits(128))),
            "occurred_at": occurred,
            "recorded_at": occurred,
            "service": service,
            "action": type_,
            "actor_id": payload["actor_id"],
            "target_type": entity,
            "target_id": str(payload[id_key]),
            "details": payload,
            "ip_address": payload.get("ip_address"),
            "user_agent": payload.get("user_agent"),
        }


async def load_entries(dsn: str, count: int) -> dict[str, Any]:
    """`count` entries over DAYS days, with the per-day counts the consumer would have kept."""
    counts: Counter[tuple[date, str, str]] = Counter()
    connection = await asyncpg.connect(dsn)
    try:
        chunk: list[tuple[Any, ...]] = []
        for row in entry_rows(count, counts):
            row["details"] = json.dumps(row["details"])
            chunk.append(tuple(row[name] for name in COLUMNS))
            if len(chunk) == 50_000:
                await connection.copy_records_to_table("audit_log", records=chunk, columns=COLUMNS)
                chunk = []
        if chunk:
            await connection.copy_records_to_table("audit_log", records=chunk, columns=COLUMNS)
        rows = [(day, service, action, n) for (day, service, action), n in counts.items()]
        await connection.copy_records_to_table(
            "audit_counts", records=rows, columns=["day", "service", "action", "count"]
        )
        await connection.execute("VACUUM ANALYZE")
        actor = await connection.fetchval(
            "SELECT actor_id FROM audit_log GROUP BY actor_id ORDER BY count(*) DESC LIMIT 1"
        )
    finally:
        await connection.close()
    return {"entries": count, "busiest_actor": int(actor)}
