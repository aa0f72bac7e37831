"""The created, updated and deleted events of a kind of row: their types, payloads (the row's
fields, what changed, the actor last) and the common update, in the caller's transaction."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from bandstand.platform.database import Database, ServiceBase, new_metadata
from bandstand.platform.messaging import ResourceEvents, attach_outbox
from bandstand.platform.messaging.outbox import outbox_table
from bandstand.platform.rows import RowWrites, Timestamps, changed_fields


class EventsBase(ServiceBase):
    __abstract__ = True
    metadata = new_metadata()


attach_outbox(EventsBase.metadata)


class Track(EventsBase, Timestamps):
    __tablename__ = "tracks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(40))
    artist: Mapped[str] = mapped_column(String(40))


TRACKS = ResourceEvents[Track](
    "studio",
    "track",
    lambda track: {"track_id": track.id, "title": track.title, "artist": track.artist},
    deleted_fields=lambda track: {"track_id": track.id},
)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/studio.sqlite3")
    async with database.engine.begin() as connection:
        await connection.run_sync(EventsBase.metadata.create_all)
    yield database
    await database.dispose()


async def published(database: Database) -> list[tuple[str, dict[str, Any]]]:
    async with database.session() as session:
        rows = await session.execute(
            select(outbox_table.c.routing_key, outbox_table.c.body).order_by(outbox_table.c.id)
        )
        return [(key, json.loads(body)["payload"]) for key, body in rows]


async def test_a_rows_life_publishes_its_three_events(database: Database) -> None:
    tracks = RowWrites[Track]()
    async with database.unit_of_work() as session:
        track = await tracks.add(session, Track(title="Blue", artist="Ana"))
        assert await TRACKS.created(session, track, 7) is track
        changes = {"title": "Green", "artist": "Ana"}
        changed = changed_fields(track, changes)
        assert await TRACKS.apply(session, track, changes, changed, 8) is track
        assert track.title == "Green"
        assert track.updated_at > track.created_at
        track_id = track.id
        await tracks.delete(session, track)
        await TRACKS.deleted(session, track, None)

    assert await published(database) == [
        (
            "studio.track.created",
            {"track_id": track_id, "title": "Blue", "artist": "Ana", "actor_id": 7},
        ),
        (
            "studio.track.updated",
            {
                "track_id": track_id,
                "title": "Green",
                "artist": "Ana",
                "changed": ["title"],
                "actor_id": 8,
            },
        ),
        ("studio.track.deleted", {"track_id": track_id, "actor_id": None}),
    ]
    async with database.session() as session:
        assert (await session.execute(select(Track.id))).all() == []


async def test_an_update_may_publish_more_than_its_columns(database: Database) -> None:
    """A change that is not a column (genres of a movie) is published with those that are."""
    async with database.unit_of_work() as session:
        track = await RowWrites[Track]().add(session, Track(title="Blue", artist="Ana"))
        changes = {"artist": "Bo"}
        await TRACKS.apply(session, track, changes, ["artist", "tags"], 1, columns=["artist"])
        await TRACKS.updated(session, track, [], 1, track_added=3)

    (_, first), (_, second) = await published(database)
    assert first["changed"] == ["artist", "tags"]
    assert track.artist == "Bo"
    assert list(second) == ["track_id", "title", "artist", "changed", "track_added", "actor_id"]


async def test_a_rolled_back_write_publishes_nothing(database: Database) -> None:
    async def failing_use_case() -> None:
        async with database.unit_of_work() as session:
            track = await RowWrites[Track]().add(session, Track(title="Blue", artist="Ana"))
            await TRACKS.created(session, track, None)
            raise RuntimeError("the use case failed")

    with pytest.raises(RuntimeError):
        await failing_use_case()
    assert await published(database) == []
