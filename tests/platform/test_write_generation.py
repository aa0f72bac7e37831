"""A service's write generation: moved by every committed write to the service's own tables
(not by the kernel's bookkeeping, not by a rollback), shared through the cache."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Integer, insert, update
from sqlalchemy.orm import Mapped, mapped_column

from bandstand.platform.cache import MemoryCache
from bandstand.platform.database import Database, ServiceBase, new_metadata
from bandstand.platform.messaging import attach_processed_messages, mark_processed
from bandstand.platform.messaging.outbox import attach_outbox, publish_event
from bandstand.platform.redis_cache import RedisCache
from bandstand.platform.write_generation import INITIAL, WriteGeneration


class Base(ServiceBase):
    __abstract__ = True
    metadata = new_metadata()


class Song(Base):
    __tablename__ = "songs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


attach_outbox(Base.metadata)
attach_processed_messages(Base.metadata)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'service.sqlite3'}")
    async with database.engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    yield database
    await database.dispose()


@pytest.fixture
async def generation(database: Database) -> AsyncIterator[WriteGeneration]:
    cache = MemoryCache()
    generation = WriteGeneration(cache, "music")
    generation.follow(database)
    yield generation
    await cache.close()


async def test_a_committed_write_moves_it_every_time(
    database: Database, generation: WriteGeneration
) -> None:
    assert await generation.current() == INITIAL
    seen = {INITIAL}
    for statement in (insert(Song).values(id=1), update(Song).values(id=2)):
        async with database.unit_of_work() as session:
            await session.execute(statement)
        seen.add(await generation.current())
    assert len(seen) == 3


async def test_reads_bookkeeping_and_rollbacks_move_nothing(
    database: Database, generation: WriteGeneration
) -> None:
    async with database.unit_of_work() as session:
        await session.get(Song, 1)
        await publish_event(session, "music.song.played", {}, source="music")
        await mark_processed(session, "message-1", "music.plays")
    async with database.session() as session:
        await session.execute(insert(Song).values(id=1))
        await session.rollback()
    assert await generation.current() == INITIAL


async def test_one_generation_is_seen_by_every_process_sharing_the_cache(
    database: Database,
) -> None:
    cache = MemoryCache()  # stands for the Redis every process shares
    writer, reader = WriteGeneration(cache, "music"), WriteGeneration(cache, "music")
    writer.follow(database)
    other_service = WriteGeneration(cache, "concerts")
    async with database.unit_of_work() as session:
        session.add(Song(id=1))
    assert await reader.current() != INITIAL
    assert await other_service.current() == INITIAL
    await cache.close()


async def test_it_is_not_told_as_every_process_s_while_the_shared_cache_is_unreachable(
    database: Database,
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unreachable = RedisCache(f"redis://127.0.0.1:{port}/0", timeout=0.2)
    generation = WriteGeneration(unreachable, "music")
    generation.follow(database)
    async with database.unit_of_work() as session:
        session.add(Song(id=1))  # this process's commit, kept in its fallback alone
    assert await generation.current() != INITIAL
    assert unreachable.degraded
    assert await generation.current_everywhere() is None
    await unreachable.close()

    shared = MemoryCache()
    reachable = WriteGeneration(shared, "music")
    assert await reachable.current_everywhere() == INITIAL
    await shared.close()
