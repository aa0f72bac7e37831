"""The kernel's thread pools: work runs on at most the pool's threads, its result or exception
comes back to the caller, and a caller cancelled while its work runs waits for the work to end."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from bandstand.platform.threads import (
    COMPUTING_THREADS,
    ThreadPool,
    available_cores,
    on_computing_thread,
)


class Overlapping:
    """Work that notes how many threads run it at once (`most`) and answers its thread's name."""

    def __init__(self, seconds: float = 0.05) -> None:
        self.seconds = seconds
        self.most = 0
        self._running: set[int] = set()
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            self._running.add(threading.get_ident())
            self.most = max(self.most, len(self._running))
        time.sleep(self.seconds)
        with self._lock:
            self._running.discard(threading.get_ident())
        return threading.current_thread().name


async def test_no_more_work_runs_at_once_than_the_pool_has_threads() -> None:
    pool = ThreadPool(2, "test")
    work = Overlapping()
    names = await asyncio.gather(*(pool.run(work) for _ in range(8)))
    assert work.most == 2
    assert set(names) == {"test"}


async def test_the_computing_threads_are_as_many_as_the_cores() -> None:
    work = Overlapping()
    names = await asyncio.gather(*(on_computing_thread(work) for _ in range(COMPUTING_THREADS + 4)))
    assert work.most == COMPUTING_THREADS == available_cores()
    assert set(names) == {"computing"}


async def test_an_exception_reaches_the_caller() -> None:
    def failing() -> None:
        raise LookupError("not there")

    with pytest.raises(LookupError, match="not there"):
        await ThreadPool(1, "test").run(failing)


async def test_a_cancelled_caller_waits_for_its_work_to_end() -> None:
    started, release = threading.Event(), threading.Event()
    ended: list[bool] = []

    def work() -> None:
        started.set()
        release.wait(5)
        ended.append(True)

    task = asyncio.create_task(ThreadPool(1, "test").run(work))
    await asyncio.to_thread(started.wait, 5)
    task.cancel()
    await asyncio.sleep(0.05)
    assert not task.done()  # still waiting for the work, not gone
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert ended == [True]


async def test_a_pool_resized_runs_no_more_threads_than_its_new_size() -> None:
    pool = ThreadPool(4, "resized")
    pool.resize(1)
    work = Overlapping(0.02)
    await asyncio.gather(*(pool.run(work) for _ in range(4)))
    assert work.most == 1


def test_the_setting_sizes_the_computing_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    from bandstand.platform import threads
    from bandstand.platform.settings import Settings

    monkeypatch.setenv("BANDSTAND_COMPUTING_THREADS", "1")
    sizes: list[int] = []
    monkeypatch.setattr(threads._COMPUTING, "resize", sizes.append)
    threads.set_computing_threads(Settings(_env_file=None).computing_threads)  # type: ignore[call-arg]
    threads.set_computing_threads(None)
    assert sizes == [1, COMPUTING_THREADS]
