"""The polling consumer of the embedded broker."""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import suppress
from typing import TYPE_CHECKING

from bandstand.platform.messaging.broker import BrokerUnavailable, Consumer, Handler
from bandstand.platform.messaging.dispatch import dispatch

if TYPE_CHECKING:
    from bandstand.platform.messaging.embedded import EmbeddedBroker
    from bandstand.platform.messaging.embedded_delivery import EmbeddedDelivery

logger = logging.getLogger(__name__)

_FAILURE_PAUSE = 1.0


RECHECK_SECONDS = 1.0
"""The longest a consumer trusts the file's marks (`_Quiet`) before it claims anyway: a commit
within the file system's clock tick that left the log's size as it was would not show."""


class _Quiet:
    """What a claim that found nothing ready knows: until the broker's file changes (another
    process published, or a handler settled) or `due` comes by the clock, a claim would find
    nothing either. A poll then costs two `stat`s where a claim is a statement on a thread."""

    def __init__(
        self, broker: EmbeddedBroker, marks: tuple[int, ...], due: float, recheck_at: float
    ) -> None:
        self._broker = broker
        self._marks = marks
        self._due = due
        self._recheck_at = recheck_at

    def holds(self, now: float) -> bool:
        return (
            now < self._recheck_at
            and time.time() < self._due
            and self._broker.file_marks() == self._marks
        )


class EmbeddedConsumer(Consumer):
    """Claims ready messages every poll interval, or at once when woken, and runs the handler.

    Handlers run concurrently up to `prefetch`; the locks of messages in flight are renewed so a
    slow handler does not lose its message to another consumer.
    """

    def __init__(
        self, broker: EmbeddedBroker, queue: str, handler: Handler, *, prefetch: int
    ) -> None:
        super().__init__(queue, handler, prefetch=prefetch)
        self._broker = broker
        self._in_flight: dict[asyncio.Task[None], EmbeddedDelivery] = {}
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"consume:{self.queue}")

    def wake(self) -> None:
        self._wakeup.set()

    async def stop(self, grace: float | None = 30.0) -> None:
        self._stopping = True
        self._wakeup.set()
        if self._task is not None:
            await self._task
        if self._in_flight:
            _, pending = await asyncio.wait(set(self._in_flight), timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        self._broker.forget(self)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        renew_every = self._broker.visibility_timeout / 3
        next_renewal = loop.time() + renew_every
        quiet: _Quiet | None = None
        woken = True
        while not self._stopping:
            self._wakeup.clear()
            claimed = 0
            wait = self._broker.poll_interval
            try:
                if woken or self._in_flight or quiet is None or not quiet.holds(loop.time()):
                    quiet = None
                    marks = self._broker.file_marks()
                    claimed = await self._claim()
                    if not claimed and not self._in_flight and marks is not None:
                        due = await self._broker.ready_after(self.queue)
                        quiet = _Quiet(self._broker, marks, due, loop.time() + RECHECK_SECONDS)
                if self._in_flight and loop.time() >= next_renewal:
                    next_renewal = loop.time() + renew_every
                    # A list, not a generator: handlers settle (and forget) deliveries while
                    # `renew` waits for the connection.
                    locks = [(d.row_id, d.token) for d in self._in_flight.values()]
                    await self._broker.renew(locks)
            except BrokerUnavailable as exc:
                logger.warning("Consumer of %s cannot reach the broker: %s", self.queue, exc)
                wait = _FAILURE_PAUSE
            except Exception:
                logger.exception("Consumer of %s failed; polling again", self.queue)
                wait = _FAILURE_PAUSE
            if claimed:
                woken = True
                continue
            woken = False
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), wait)
                woken = True

    async def _claim(self) -> int:
        free = self._prefetch - len(self._in_flight)
        if free <= 0:
            return 0
        deliveries = await self._broker.claim(self.queue, free)
        for delivery in deliveries:
            task = asyncio.create_task(dispatch(delivery, self._handler))
            self._in_flight[task] = delivery
            task.add_done_callback(self._finished)
        return len(deliveries)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.pop(task, None)
        self._wakeup.set()
