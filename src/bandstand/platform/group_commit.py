"""Group commit: many callers' items written by one transaction.

While one batch is being written, the items that arrive wait and form the next one (at most
`max_size`), so a lone item goes at once and a stream goes in batches whose size follows the
load. With a `linger`, a batch that is not full also waits that long for company (no longer
once it is full): fewer, larger transactions for callers that can spare the latency. Each
caller gets its own item's result, or the exception that stopped it.

A batch that fails for another reason than the database being unavailable is written again one
item at a time, so that only the item at fault fails; an unavailable database fails the whole
batch at once (each caller decides whether to wait or to answer 503).

Group commit is an option of the unit of work: `grouped_unit_of_work` writes each batch in one
`Database.unit_of_work`, with its after-commit work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.platform.database import Database
from bandstand.platform.errors import is_unavailable

logger = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")

Process = Callable[[list[Item]], Awaitable[Sequence[Result]]]
"""Writes a batch in one transaction; one result per item, in order."""

Write = Callable[[AsyncSession, list[Item]], Awaitable[Sequence[Result]]]
"""Writes a batch within the given session's transaction; one result per item, in order."""


class GroupCommit(Generic[Item, Result]):
    def __init__(
        self, process: Process[Item, Result], *, max_size: int, name: str, linger: float = 0.0
    ) -> None:
        """`linger`: seconds a batch that is not full waits for more items before it is
        written (for callers that trade a little latency for fewer, larger transactions)."""
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self._process = process
        self._max_size = max_size
        self._name = name
        self._linger = linger
        self._pending: list[tuple[Item, asyncio.Future[Result]]] = []
        self._full = asyncio.Event()
        self._drain_task: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        """Wait until `item` is written (with whatever arrived beside it); its result."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if len(self._pending) >= self._max_size:
            self._full.set()
        if self._drain_task is None or self._drain_task.done():
            self._drain_task = asyncio.create_task(self._drain(), name=self._name)
            self._drain_task.add_done_callback(self._release_waiting)
        return await future

    async def _drain(self) -> None:
        batch: list[tuple[Item, asyncio.Future[Result]]] = []
        try:
            while self._pending:
                if self._linger > 0 and len(self._pending) < self._max_size:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._full.wait(), self._linger)
                batch = self._pending[: self._max_size]
                del self._pending[: self._max_size]
                if len(self._pending) < self._max_size:
                    self._full.clear()
                # A caller that was cancelled (its client left) no longer wants its item.
                batch = [(item, future) for item, future in batch if not future.done()]
                if batch:
                    await self._run(batch)
        finally:
            for _, future in batch:
                future.cancel()  # a no-op for the settled ones

    def _release_waiting(self, task: asyncio.Task[None]) -> None:
        """A writer stopped (shutting down) before it wrote them: nobody may wait for ever."""
        if task.cancelled() or task.exception() is not None:
            for _, future in self._pending:
                future.cancel()
            self._pending.clear()

    async def _run(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            results = await self._process([item for item, _ in batch])
        except Exception as exc:
            if len(batch) == 1 or is_unavailable(exc):
                for _, future in batch:
                    _fail(future, exc)
                return
            logger.warning(
                "%s: a batch of %d failed (%s): one by one now", self._name, len(batch), exc
            )
            for item, future in batch:
                try:
                    [result] = await self._process([item])
                except Exception as single:
                    _fail(future, single)
                else:
                    _succeed(future, result)
            return
        for (_, future), result in zip(batch, results, strict=True):
            _succeed(future, result)


def _succeed(future: asyncio.Future[Result], result: Result) -> None:
    if not future.done():
        future.set_result(result)


def _fail(future: asyncio.Future[Result], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


def grouped_unit_of_work(
    database: Database,
    write: Write[Item, Result],
    *,
    max_size: int,
    name: str,
    linger: float = 0.0,
) -> GroupCommit[Item, Result]:
    """Group commit in which `write` writes each batch in one unit of work of `database`."""

    async def process(items: list[Item]) -> Sequence[Result]:
        async with database.unit_of_work() as session:
            return await write(session, items)

    return GroupCommit(process, max_size=max_size, name=name, linger=linger)
