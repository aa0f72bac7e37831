"""Daemon thread pools for work the event loop hands off and awaits.

Like aiosqlite's threads, they never keep a process from exiting (a statement may be waiting on
a lock, up to the busy timeout). A caller cancelled while its work runs waits for the work to end
before it goes on: what the work uses (a connection) stays the work's until then.

Two kinds: the SQLite driver's (`sqlite_driver.on_thread`), many, since a statement may wait on
another process's lock; and the computing threads (`on_computing_thread`), as many as the
cores, for work that keeps a core busy with the GIL released most of the time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, where the system tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 2


COMPUTING_THREADS = available_cores()
"""As many as the cores: more only queue on them and hand the GIL round more often. Searches of
1,000,000 listings on 2 cores, 16 at once, ran 1,100 a second on 2 threads, 1,030 on 1 or 3 and
1,010-1,040 on 4 or 6 (890 on 16, in an earlier measure). Replicas sharing a machine share its
cores too (`set_computing_threads`)."""


class ThreadPool:
    """Up to `size` daemon threads named `name`, started as work arrives."""

    def __init__(self, size: int, name: str) -> None:
        self._size = size
        self._name = name
        self._started = 0
        self._idle = 0
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], asyncio.Future[Any]]] = (
            queue.SimpleQueue()
        )

    def resize(self, size: int) -> None:
        """At most `size` threads from now on (threads already started stay)."""
        with self._lock:
            self._size = max(1, size)

    async def run(self, work: Callable[[], T]) -> T:
        """`work`'s result (or its exception) once a thread has run it."""
        future = self._submit(work)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            while not future.done():
                try:
                    await asyncio.wait([future])
                except asyncio.CancelledError:
                    continue
            raise

    def _submit(self, work: Callable[[], T]) -> asyncio.Future[T]:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        with self._lock:
            if self._idle <= 0 and self._started < self._size:
                self._started += 1
                threading.Thread(target=self._serve, name=self._name, daemon=True).start()
            self._idle -= 1
        self._jobs.put((work, future))
        return future

    def _serve(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            work, future = self._jobs.get()
            try:
                result, error = work(), None
            except BaseException as exc:
                result, error = None, exc
            with contextlib.suppress(RuntimeError):  # its event loop is closed: nobody waits
                future.get_loop().call_soon_threadsafe(_settle, future, result, error)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


_COMPUTING = ThreadPool(COMPUTING_THREADS, "computing")


def set_computing_threads(count: int | None) -> None:
    """How many computing threads this process runs (None: `COMPUTING_THREADS`), set when a
    serving process starts: two replicas of a service on two cores, each with two threads, kept
    four threads busy on two cores, and their searches' p95 was 18.5 ms against 17.1 with one
    thread each (`BANDSTAND_COMPUTING_THREADS`)."""
    _COMPUTING.resize(count or COMPUTING_THREADS)


async def on_computing_thread(work: Callable[[], T]) -> T:
    """`work` on one of the computing threads: a search index's search, a read of mapped pages."""
    return await _COMPUTING.run(work)
