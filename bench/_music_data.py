"""A deterministic music catalogue in bulk: songs and likes, the same on SQLite and PostgreSQL.

Rows go straight into the music service's tables (after its own migrations), built from the
service's table definitions, with `like_count` and `search_text` computed as the service
computes them. Likes are skewed: a few songs are liked by many, most by a few.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, create_engine, text

import _harness as h
from _support import PostgresServer
from bandstand.music.models import MusicBase
from bandstand.music.search import normalize, search_text

SEARCH_TERM = "corazon"  # matches "Corazón": accents and case are ignored
PAGE = 50
LIKES_PER_USER = 50
SEED = 20261124

WORDS = [
    "Corazón",
    "Canción",
    "Noche",
    "Luna",
    "Fuego",
    "Río",
    "Camino",
    "Sueño",
    "Mañana",
    "Ciudad",
    "Amor",
    "Tiempo",
    "Viento",
    "Estrella",
    "Mar",
    "Cielo",
    "Lluvia",
    "Sol",
    "Invierno",
    "Verano",
    "Blue",
    "Night",
    "River",
    "Golden",
    "Electric",
    "Midnight",
    "Summer",
    "Heart",
    "Road",
    "Fire",
    "Silver",
    "Morning",
    "Echo",
    "Shadow",
    "Garden",
    "Ocean",
    "Thunder",
    "Velvet",
    "Neon",
    "Paper",
    "Glass",
    "Wild",
    "Quiet",
    "Broken",
    "Falling",
    "Dancing",
    "Lonely",
    "Northern",
    "Southern",
    "Little",
    "Crystal",
    "Hollow",
    "Rising",
    "Burning",
    "Forgotten",
    "Señal",
    "Niño",
    "Ébano",
    "Ópera",
    "Après",
    "Café",
]
FIRST = [
    "Ana",
    "Bruno",
    "Carla",
    "Diego",
    "Elena",
    "Felix",
    "Gala",
    "Hugo",
    "Inés",
    "Jonas",
    "Kira",
    "Luis",
    "Mara",
    "Nico",
    "Olga",
    "Pablo",
]
LAST = [
    "Alba",
    "Brisa",
    "Cruz",
    "Duarte",
    "Estévez",
    "Fuentes",
    "García",
    "Herrera",
    "Iglesias",
    "Jiménez",
    "Lorca",
    "Morales",
    "Navarro",
    "Ortega",
    "Peña",
    "Quintana",
    "Rivas",
    "Soler",
    "Torres",
    "Ureña",
    "Valdés",
    "Zamora",
    "Keller",
    "Novak",
    "Lind",
]
GENRES = [
    "rock",
    "pop",
    "jazz",
    "folk",
    "flamenco",
    "blues",
    "soul",
    "electronic",
    "classical",
    "hiphop",
    "reggae",
    "metal",
]
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def prepare_database(engine: str, workdir: Path) -> tuple[str, Callable[[], None]]:
    """A migrated, empty music database on `engine`; the URL and how to clean it up."""
    workdir.mkdir(parents=True, exist_ok=True)
    if engine == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / 'music.sqlite3'}"
        cleanup: Callable[[], None] = lambda: None  # noqa: E731 - the temp dir goes anyway
    elif engine == "postgres":
        server = PostgresServer()
        server.start()
        server.create_database("music_bench")
        url = server.url("music_bench")
        cleanup = server.stop
    else:
        raise SystemExit(f"unknown engine {engine!r}: sqlite or postgres")
    migrate = [*h.bandstand_command(), "migrate", "music", "--data-dir", str(workdir / "var")]
    env = h.process_env({"BANDSTAND_DATABASES__MUSIC": url})
    subprocess.run(migrate, env=env, check=True, capture_output=True)
    return url, cleanup


def song_rows(count: int, like_counts: Counter[int]) -> Iterator[dict[str, Any]]:
    rng = random.Random(SEED)
    for song_id in range(1, count + 1):
        title = " ".join(rng.sample(WORDS, rng.choice((2, 2, 3))))
        artist = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        created = EPOCH + timedelta(minutes=song_id)
        yield {
            "id": song_id,
            "title": title,
            "artist": artist,
            "genre": rng.choice(GENRES),
            "file_url": f"https://media.bandstand.example/songs/{song_id}.mp3",
            "duration": rng.randint(90, 600),
            "description": f"{title} by {artist}",
            "cover_image_url": None,
            "release_date": date(1970, 1, 1) + timedelta(days=rng.randint(0, 20_000)),
            "lyrics": None,
            "like_count": like_counts.get(song_id, 0),
            "search_text": search_text(title, artist),
            "created_at": created,
            "updated_at": created,
        }


def search_term(songs: int) -> str:
    """The measured search's term: `SEARCH_TERM` (in 3.9% of the titles of a large catalogue);
    in a catalogue smaller than a page, which may not hold it, the word most of its titles
    share, so that the search finds songs there too."""
    if songs >= PAGE:
        return SEARCH_TERM
    words = Counter(
        word for row in song_rows(songs, Counter()) for word in normalize(row["title"]).split()
    )
    return words.most_common(1)[0][0]


def like_pairs(songs: int, likes: int) -> list[tuple[int, int]]:
    """`likes` distinct (user_id, song_id) pairs, skewed towards the first songs."""
    rng = random.Random(SEED + 1)
    pairs: list[tuple[int, int]] = []
    users = max(1, -(-likes // LIKES_PER_USER))
    per_user = min(LIKES_PER_USER, songs)
    for user_id in range(1, users + 1):
        chosen: set[int] = set()
        wanted = min(per_user, likes - len(pairs))
        while len(chosen) < wanted:
            chosen.add(int(songs * rng.random() ** 3) + 1)
        pairs.extend((user_id, song_id) for song_id in sorted(chosen))
    return pairs


def _complete(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """The row restricted to the table's columns; a required column it lacks is an error."""
    values = {}
    for column in table.columns:
        if column.name in row:
            values[column.name] = row[column.name]
        elif not column.nullable and column.default is None and column.server_default is None:
            raise SystemExit(f"the benchmark does not know how to fill {table.name}.{column.name}")
    return values


def load(engine: str, url: str, workdir: Path, *, songs: int, likes: int) -> dict[str, int]:
    pairs = like_pairs(songs, likes)
    counts = Counter(song_id for _, song_id in pairs)
    tables = MusicBase.metadata.tables
    song_table, like_table = tables["songs"], tables["likes"]
    now = EPOCH + timedelta(days=300)
    song_values = (_complete(song_table, row) for row in song_rows(songs, counts))
    like_values = (
        _complete(like_table, {"user_id": user, "song_id": song, "created_at": now})
        for user, song in pairs
    )
    if engine == "sqlite":
        _load_sqlite(url, song_table, like_table, song_values, like_values)
    else:
        asyncio.run(_load_postgres(url, song_table, like_table, song_values, like_values))
    return {"songs": songs, "likes": len(pairs), "users": len({user for user, _ in pairs})}


def _chunks(rows: Iterator[dict[str, Any]], size: int = 20_000) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _load_sqlite(
    url: str,
    song_table: Table,
    like_table: Table,
    songs: Iterator[dict[str, Any]],
    likes: Iterator[dict[str, Any]],
) -> None:
    engine = create_engine(url.replace("+aiosqlite", ""))
    with engine.begin() as connection:
        for table, rows in ((song_table, songs), (like_table, likes)):
            for chunk in _chunks(rows):
                connection.execute(table.insert(), chunk)
    with engine.connect() as connection:
        connection.execute(text("ANALYZE"))
        connection.commit()
    engine.dispose()


async def _load_postgres(
    url: str,
    song_table: Table,
    like_table: Table,
    songs: Iterator[dict[str, Any]],
    likes: Iterator[dict[str, Any]],
) -> None:
    import asyncpg

    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        for table, rows in ((song_table, songs), (like_table, likes)):
            for chunk in _chunks(rows):
                columns = list(chunk[0])
                records = [tuple(row[name] for name in columns) for row in chunk]
                await connection.copy_records_to_table(table.name, records=records, columns=columns)
        await connection.execute(
            f"SELECT setval(pg_get_serial_sequence('{song_table.name}', 'id'), "  # noqa: S608
            f"(SELECT max(id) FROM {song_table.name}))"
        )
        # As autovacuum would have done on a live database, rather than during a measurement:
        # statistics and the visibility map of the rows just copied.
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()
