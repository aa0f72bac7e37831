"""What one read costs on SQLite before any HTTP: a session, each statement, ORM objects, and the
same statements run in one thread hop through a synchronous session; through aiosqlite and
through the kernel's own driver (`platform.sqlite_driver`, what `Database` uses).

One process, one music database migrated and filled with `--songs` songs; the variants take turns
in `--rounds` rounds of `--repeat` repetitions each (after a warm-up), so that other work on the
machine weighs on all of them alike; CPU time of the whole process (every thread) per repetition,
the median of the rounds.
Reported in BENCHMARKS.md §10 ("what it costs"). `uv run python bench/read_path_cost.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

import bandstand.music
from bandstand.music.models import Song
from bandstand.music.search import search_text
from bandstand.platform.commands import migrate_database
from bandstand.platform.database import Database
from bandstand.platform.settings import Settings


def cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=100, help="repetitions per round")
    parser.add_argument("--rounds", type=int, default=7)
    return parser.parse_args(argv)


Variant = Callable[[], Awaitable[Any]]


async def measure(variants: dict[str, Variant], repeat: int, rounds: int) -> None:
    cpu_ms: dict[str, list[float]] = {name: [] for name in variants}
    wall_ms: dict[str, list[float]] = {name: [] for name in variants}
    for run in variants.values():
        for _ in range(max(repeat // 5, 1)):
            await run()
    for _ in range(rounds):
        for name, run in variants.items():
            cpu, wall = cpu_seconds(), time.perf_counter()
            for _ in range(repeat):
                await run()
            cpu_ms[name].append((cpu_seconds() - cpu) * 1000 / repeat)
            wall_ms[name].append((time.perf_counter() - wall) * 1000 / repeat)
    print("| variant | CPU ms | wall ms |\n|---|---:|---:|")
    for name in variants:
        cpu, wall = statistics.median(cpu_ms[name]), statistics.median(wall_ms[name])
        print(f"| {name} | {cpu:.2f} | {wall:.2f} |", flush=True)


def three_statements(session: Session, orm: bool) -> None:
    session.execute(select(func.count()).select_from(Song)).scalar_one()
    page = select(Song) if orm else select(*Song.__table__.c)
    rows = session.execute(page.limit(50))
    (rows.scalars() if orm else rows).all()
    session.execute(text("SELECT 1")).all()


def in_one_hop(engine: Engine, orm: bool) -> None:
    with Session(engine) as session:
        three_statements(session, orm)


async def run(args: argparse.Namespace, url: str) -> None:
    database = Database(url)
    async with database.unit_of_work() as session:
        for number in range(args.songs):
            title, artist = f"Song {number}", f"Artist {number % 7}"
            session.add(
                Song(
                    title=title,
                    artist=artist,
                    genre="Rock",
                    file_url=f"https://cdn.example.com/{number}.mp3",
                    duration=100 + number,
                    search_text=search_text(title, artist),
                )
            )

    aiosqlite = create_async_engine(url, pool_size=8)
    engine = create_engine(url.replace("+aiosqlite", ""), pool_size=8)
    variants: dict[str, Variant] = {}
    for driver, sessions in (
        ("aiosqlite", async_sessionmaker(aiosqlite)),
        ("kernel driver", database.sessionmaker),
    ):

        async def one_statement(sessions: Any = sessions) -> None:
            async with sessions() as session:
                await session.execute(text("SELECT 1"))

        async def orm_page(sessions: Any = sessions) -> None:
            async with sessions() as session:
                (await session.execute(select(Song).limit(50))).scalars().all()

        async def rows_page(sessions: Any = sessions) -> None:
            async with sessions() as session:
                (await session.execute(select(*Song.__table__.c).limit(50))).all()

        async def three_async(sessions: Any = sessions) -> None:
            async with sessions() as session:
                await session.run_sync(three_statements, True)

        variants[f"{driver}, `SELECT 1`"] = one_statement
        variants[f"{driver}, 50 ORM objects"] = orm_page
        variants[f"{driver}, 50 rows"] = rows_page
        variants[f"{driver}, count + 50 ORM objects + `SELECT 1`"] = three_async
    one_hop = "one thread hop (synchronous session), count + 50 ORM objects + `SELECT 1`"
    variants[one_hop] = lambda: asyncio.to_thread(in_one_hop, engine, True)
    variants["one thread hop, the same with plain rows"] = lambda: asyncio.to_thread(
        in_one_hop, engine, False
    )
    await measure(variants, args.repeat, args.rounds)
    await aiosqlite.dispose()
    engine.dispose()
    await database.dispose()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir = Path(tempfile.mkdtemp(prefix="bench-read-path-"))
    settings = Settings(_env_file=None, data_dir=data_dir, log_json=False)
    migrate_database(settings, "music", Path(bandstand.music.__file__).with_name("migrations"))
    asyncio.run(run(args, settings.database_url("music")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
