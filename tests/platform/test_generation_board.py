"""The generation board: write generations shared through the data directory by the processes of
one machine that have no shared cache (`bandstand up`, its workers, a command)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, Table, insert

from bandstand.platform.cache import MemoryCache
from bandstand.platform.generation_board import SLOTS, GenerationBoard, board_of
from bandstand.platform.settings import Settings
from bandstand.platform.write_generation import INITIAL, followed_database, write_generation


def _advance_in_another_process(data_dir: Path, service: str) -> None:
    code = (
        "import sys; from pathlib import Path\n"
        "from bandstand.platform.generation_board import board_of\n"
        "board_of(Path(sys.argv[1])).advance(sys.argv[2])\n"
    )
    subprocess.run([sys.executable, "-c", code, str(data_dir), service], check=True)


def test_a_write_in_another_process_is_seen_at_once(tmp_path: Path) -> None:
    board = board_of(tmp_path)
    assert board.read("billing") == 0
    _advance_in_another_process(tmp_path, "billing")
    first = board.read("billing")
    assert first != 0
    _advance_in_another_process(tmp_path, "billing")
    assert board.read("billing") not in (0, first)


def test_each_write_is_a_new_token_and_other_slots_keep_theirs(tmp_path: Path) -> None:
    board = GenerationBoard(tmp_path / "board")
    names = [f"service-{index}" for index in range(SLOTS)]
    seen = set()
    for _ in range(50):
        board.advance("billing")
        seen.add(board.read("billing"))
    assert len(seen) == 50
    apart = [name for name in names if board._offset(name) != board._offset("billing")]
    assert all(board.read(name) == 0 for name in apart)
    board.close()


def test_a_second_opening_keeps_what_the_first_wrote(tmp_path: Path) -> None:
    first = GenerationBoard(tmp_path / "board")
    first.advance("music")
    second = GenerationBoard(tmp_path / "board")
    assert second.read("music") == first.read("music") != 0
    first.close()
    second.close()


async def test_without_a_shared_cache_the_generation_is_on_the_board(tmp_path: Path) -> None:
    """Two processes with caches of their own (the app of `up` and its billing worker) still
    share the generation: a commit in one invalidates the other's answers."""
    settings = Settings(data_dir=tmp_path, cache_url="memory://")
    app_cache = MemoryCache()
    generation = write_generation(settings, app_cache, "billing")
    before = await generation.current()
    assert before == INITIAL
    await app_cache.set("answer", "kept")
    _advance_in_another_process(tmp_path, "billing")
    after, answer = await generation.current_and("answer")
    assert after != before
    assert answer == "kept"
    await generation.advance()
    assert await generation.current() not in (before, after)


def test_the_board_is_written_only_when_first_used(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", cache_url="memory://")
    write_generation(settings, MemoryCache(), "music")
    assert not (tmp_path / "data").exists()


def test_with_redis_the_generation_stays_in_the_cache(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, cache_url="redis://127.0.0.1:1/0")
    generation = write_generation(settings, MemoryCache(), "billing")
    assert generation.board is None
    assert not (tmp_path / "write-generations").exists()


async def test_a_commands_commits_move_the_generation_of_the_running_processes(
    tmp_path: Path,
) -> None:
    """`createsuperuser`, `seed` and `import` write through `followed_database`: the processes
    serving the service (here, the board they read) see each commit."""
    settings = Settings(data_dir=tmp_path, cache_url="memory://")
    board = board_of(tmp_path)
    songs = Table("songs", MetaData(), Column("id", Integer, primary_key=True))
    async with followed_database(settings, "music") as database:
        async with database.engine.begin() as connection:
            await connection.run_sync(songs.metadata.create_all)
        async with database.unit_of_work() as session:
            await session.execute(insert(songs).values(id=1))
    assert board.read("music") != 0
