"""The polling consumer of the embedded broker."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from typing import TYPE_CHECKING

from bandstand.platform.messaging.broker import BrokerUnavailable, Consumer, Handler
from bandstand.platform.messaging.dispatch import dispatch

if TYPE_CHECKING:
    from bandstand.platform.messaging.embedded import EmbeddedBroker
    from bandstand.platform.messaging.embedded_delivery import EmbeddedDelivery

logger = logging.getLogger(__name__)

_FAILURE_PAUSE = 1.0


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
        while not self._stopping:
            self._wakeup.clear()
            claimed = 0
            wait = self._broker.poll_interval
            try:
                claimed = await self._claim()
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
                continue
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), wait)

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
